"""One process at a time in a run folder: a second run and a ``--resume`` of a running run refuse in
one line; the lock of a killed process is taken over."""

import os
import socket
import subprocess
import sys

import pytest

from data_builders import write_cinc2017
from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.errors import run_cli
from ecgtf.training.runlock import LOCK_FILE, RunFolderBusy, RunLock, read_holder

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(REPO, "scripts"))
import train as train_script  # noqa: E402

HOLD = "import sys, time; from ecgtf.training.runlock import RunLock; RunLock(sys.argv[1]).acquire(); " \
       "print('locked', flush=True); time.sleep(120)"


def hold_lock(run_dir):
    """A live child process holding ``run_dir``'s lock."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    return child


def error_line(capsys):
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 1, err
    return err[0]


def test_second_run_and_resume_refuse_while_another_process_runs(tmp_path, capsys):
    root = write_cinc2017(tmp_path / "d", {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 9)})
    run = tmp_path / "run"
    run.mkdir()
    cfglib.save(TrainConfig(model="compact1d", dataset="cinc2017", data_dir=root, out=str(run), epochs=1),
                str(run / "config.yaml"))
    before = (run / "config.yaml").read_text()
    child = hold_lock(run)
    try:
        argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir",
                str(tmp_path / "c"), "--epochs", "1", "--out", str(run), "--verbose", "0"]
        for extra in ([], ["--resume"]):
            assert run_cli(train_script.main, argv + extra) == 2
            line = error_line(capsys)
            assert f"in use by process {child.pid} on " in line and str(run) in line, line
        assert sorted(os.listdir(run)) == ["config.yaml", LOCK_FILE]  # nothing written, nothing removed
        assert (run / "config.yaml").read_text() == before
    finally:
        child.kill()
        child.wait()
    # The killed process left its lock file: it is taken over, with a note naming the dead process.
    assert read_holder(str(run / LOCK_FILE))[0] == child.pid
    notes = []
    with RunLock(str(run), say=notes.append):
        assert read_holder(str(run / LOCK_FILE))[0] == os.getpid()
    assert len(notes) == 1 and str(child.pid) in notes[0] and "no longer running" in notes[0]
    assert not (run / LOCK_FILE).exists()  # released: the file goes


def test_lock_file_of_a_live_process_or_another_host_is_never_taken_over(tmp_path):
    """Without the kernel lock (a file system that ignores flock), the file's PID and host decide."""
    for holder in (f"{os.getppid()} {socket.gethostname()} 2025-01-01T00:00:00", "1 other-host 2025-01-01T00:00:00"):
        (tmp_path / LOCK_FILE).write_text(holder + "\n")
        with pytest.raises(RunFolderBusy, match=f"in use by process {holder.split()[0]} on {holder.split()[1]}"):
            RunLock(str(tmp_path)).acquire()
        assert (tmp_path / LOCK_FILE).read_text() == holder + "\n"
