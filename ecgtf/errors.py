"""One-line errors for the command-line scripts.

Scripts keep ``main(argv)`` raising ordinary exceptions (so tests and callers see them) and
run it through :func:`run_cli`, which turns a user's mistake (a missing file, a bad value, an
unknown name, an unreadable record) into one line on stderr and exit code 2, instead of a
traceback (``--debug`` or ``ECGTF_DEBUG=1`` shows it). Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import os
import sys


def user_errors() -> tuple[type[BaseException], ...]:
    from ecgtf.data.record import RecordError
    from ecgtf.training.runlock import RunFolderBusy

    return (FileNotFoundError, NotADirectoryError, IsADirectoryError, KeyError, ValueError, RecordError,
            RunFolderBusy)


def message(err: BaseException) -> str:
    """The error's text on one line (``KeyError`` without its quotes)."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return " ".join(str(text).split())


def run_cli(main, argv=None) -> int:
    """Runs ``main(argv)``; a user error prints ``error: ...`` on one line and returns 2.

    ``--debug`` among the arguments, or ``ECGTF_DEBUG=1``, shows the traceback instead, and
    TensorFlow's start-up lines (:mod:`ecgtf.quiet` drops them otherwise).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("ECGTF_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    from ecgtf.quiet import quiet_tensorflow

    quiet_tensorflow(debug)  # its start-up lines dropped, unless --debug
    try:
        main(argv)
    except user_errors() as err:
        if debug:
            raise
        print(f"error: {message(err)} (--debug shows the traceback)", file=sys.stderr)
        return 2
    return 0
