"""Loading a saved ``.keras`` model, with one-line errors that name the file and say what is wrong.

Keras answers "File not found" for a ``.keras`` file that exists but is truncated or not a zip
archive, and its refusal of a ``Lambda`` layer is a paragraph; :func:`load_model_file` says
instead that the file is corrupt or truncated, or holds Python code, in one full sentence.
"""

from __future__ import annotations

import os
import zipfile


def load_model_file(path: str, flag: str | None = None):
    """``keras.models.load_model(path, compile=False)`` with readable errors.

    Args:
        path: the ``.keras`` file.
        flag: the command-line flag that named it (``--init-from``), to start the message with.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is there but cannot be loaded (one line naming it and why).
    """
    import keras

    name = f"{flag} {path}" if flag else path
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{name}: no such file")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds for a truncated or foreign file
        raise ValueError(f"{name} cannot be loaded: {why_not_loaded(path, err)}") from None


def why_not_loaded(path: str, err: BaseException) -> str:
    """Why Keras refused ``path`` (with the exception ``err``), as the end of one sentence."""
    text = " ".join(str(err).split())
    if isinstance(err, zipfile.BadZipFile) or (path.endswith(".keras") and not zipfile.is_zipfile(path)):
        return f"the file is corrupt or truncated ({os.path.getsize(path):,} bytes, not a whole .keras zip archive)"
    if "`Lambda` layer" in text:
        return ("it holds a Lambda layer, whose Python code Keras does not run from a file it cannot trust "
                "(loading it could run any code); ecgtf writes no such layer, so this file was not written by it")
    return f"{type(err).__name__}: {first_sentences(text)}"


def first_sentences(text: str, limit: int = 300) -> str:
    """``text`` cut after its last whole sentence within ``limit`` characters (never mid-sentence
    when a sentence ends in time; at a word with "..." otherwise)."""
    if len(text) <= limit:
        return text
    end = text.rfind(". ", 0, limit)
    if end > 0:
        return text[:end + 1]
    return text[:limit].rsplit(" ", 1)[0] + " ..."
