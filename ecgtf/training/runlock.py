"""One process at a time in a run folder: ``run.lock`` with its holder's PID and host.

Two ``train.py`` runs with one ``--out`` used to both "succeed" and mix their files (a
``history.csv`` of epochs 0, 1, 0, 1 beside the later run's model). The lock is an exclusive
``fcntl.flock`` on ``RUN_DIR/run.lock``, which the kernel drops when its holder dies; the file
names the holder (``PID HOST START``) for the refusal message. A lock file left by a killed
process on this host (its PID no longer running) is taken over with a note; one from another
host is never taken over, since that process cannot be checked from here.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import socket

LOCK_FILE = "run.lock"


class RunFolderBusy(RuntimeError):
    """Another process holds the run folder's lock."""


class RunLock:
    """An exclusive lock on a run folder, held from :meth:`acquire` to :meth:`release`.

    Args:
        run_dir: the run folder (must exist).
        say: where the take-over note of a stale lock goes (``print`` by default).
    """

    def __init__(self, run_dir: str, say=print):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, LOCK_FILE)
        self.say = say
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Takes the lock, or raises :class:`RunFolderBusy` naming its holder."""
        while self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise self._busy(read_holder(self.path)) from None
            if not _same_file(fd, self.path):  # its holder released (unlinked) it meanwhile: lock the new one
                os.close(fd)
                continue
            holder = _parse(os.pread(fd, 4096, 0).decode(errors="replace"))
            if holder and not _is_stale(holder):
                os.close(fd)
                raise self._busy(holder)
            if holder and holder[0] != os.getpid():
                self.say(f"note: {self.path} was left by process {holder[0]} on {holder[1]}, which is no "
                         "longer running; taking it over")
            start = datetime.datetime.now().isoformat(timespec="seconds")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()} {start}\n".encode(), 0)
            os.fsync(fd)
            self._fd = fd
        return self

    def release(self) -> None:
        """Removes the lock file and drops the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            if _same_file(self._fd, self.path):
                os.unlink(self.path)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def _busy(self, holder) -> RunFolderBusy:
        who = f"process {holder[0]} on {holder[1]}" + (f" (since {holder[2]})" if holder[2] else "") \
            if holder else "another process"
        return RunFolderBusy(f"run folder {self.run_dir} is in use by {who}: wait for that run to end or give "
                             f"another --out (if it is no longer running, delete {self.path})")


def read_holder(path: str) -> tuple[int, str, str] | None:
    """``(pid, host, start)`` written in a lock file, or None (no file, empty or unreadable)."""
    try:
        with open(path) as f:
            return _parse(f.read(4096))
    except OSError:
        return None


def _parse(text: str) -> tuple[int, str, str] | None:
    fields = text.split()
    if len(fields) < 2 or not fields[0].isdigit():
        return None
    return int(fields[0]), fields[1], fields[2] if len(fields) > 2 else ""


def _is_stale(holder) -> bool:
    """Whether the lock file's holder is gone: a process of this host that no longer runs (or
    this very process). A holder on another host counts as running."""
    pid, host, _ = holder
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        return False
    return False


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
