"""TensorFlow without its start-up lines on a normal run (``--debug`` keeps them).

TensorFlow 2.21 logs through absl before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL``
does not hide what ``import tensorflow`` writes: "WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR", the oneDNN notice and the CPU-feature
note (on a GPU machine, the CUDA plug-in registration lines too). :func:`quiet_tensorflow`
makes the first ``import tensorflow`` (wherever it happens, and only if it happens: the
scripts that never need TensorFlow do not pay for importing it) run with file descriptor 2
sent to a temporary file, then writes back every other line, so a real error still shows.
:func:`ecgtf.errors.run_cli` calls it before a script's ``main``, and a sweep's trial process
(a fresh ``spawn`` child) when it starts.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile

#: Lines ``import tensorflow`` writes that say nothing about the run.
STARTUP_LINES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "  # absl INFO and WARNING lines (oneDNN, CPU features, TF-TRT)
    r"|E\d{4} [\d:.]+ +\d+ \S+:\d+\] (Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered)"
    r"|To enable the following instructions: "  # the CPU-feature note's second line
)


def quiet_tensorflow(debug: bool | None = None) -> None:
    """Drops TensorFlow's start-up lines when it is first imported; nothing with ``debug`` (by
    default ``ECGTF_DEBUG=1``, which is how a spawned child process hears it), or when it is
    imported already."""
    if debug is None:
        debug = os.environ.get("ECGTF_DEBUG", "") not in ("", "0")
    if debug or "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietImport())


@contextlib.contextmanager
def startup_lines_dropped():
    """Sends file descriptor 2 to a temporary file in the block, then writes back to it every
    line that :data:`STARTUP_LINES` does not match."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not STARTUP_LINES.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with a loader that runs its ``__init__`` in
    :func:`startup_lines_dropped`; then leaves ``sys.meta_path``."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # the real loader, for whoever asks later
        with startup_lines_dropped():
            self.loader.exec_module(module)
