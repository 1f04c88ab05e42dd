"""Writing a file so that a kill never leaves it half-written."""

from __future__ import annotations

import contextlib
import os


@contextlib.contextmanager
def replacing(path: str):
    """Yields a temporary path beside ``path`` to write to; renames it onto ``path`` when the
    block ends. The temporary name keeps the extensions (``model.keras`` ->
    ``model.partial.keras``, ``latest.weights.h5`` -> ``latest.partial.weights.h5``), which
    Keras's savers check."""
    folder, name = os.path.split(path)
    stem, dot, rest = name.partition(".")
    tmp = os.path.join(folder, f"{stem}.partial{dot}{rest}")
    yield tmp
    os.replace(tmp, path)
