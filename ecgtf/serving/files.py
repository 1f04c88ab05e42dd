"""Reading the files ``scripts/predict.py`` scores: records into :class:`ecgtf.data.record.Record` s,
printout images into RGB arrays.

Accepted: WFDB records (``.hea`` with its ``.dat``, or a challenge ``.mat`` with its ``.hea``:
both through :func:`ecgtf.data.wfdb_io.read_record`), NumPy ``.npy`` arrays ``(samples, leads)``
in mV (their rate is given by the caller; the model's by default), and for printout models
``.png``/``.jpg`` images. A folder stands for every such file inside it (recursively).
"""

from __future__ import annotations

import os

import numpy as np

from ecgtf.data.record import Record, RecordError

SIGNAL_EXTENSIONS = (".hea", ".mat", ".npy")
from ecgtf.paper.image import IMAGE_EXTENSIONS  # the images the page reader reads


def find_inputs(paths) -> list[str]:
    """Files to score, in the given order, folders expanded (sorted).

    A ``.mat`` whose ``.hea`` is beside it is the same record as the header and is listed once,
    as the ``.hea``. A path that does not exist is kept: :func:`read_input` reports it.
    """
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in sorted(os.walk(path)):
                found.extend(os.path.join(folder, n) for n in sorted(names)
                             if n.lower().endswith(SIGNAL_EXTENSIONS + IMAGE_EXTENSIONS))
        else:
            found.append(path)
    records = [p for p in found if not (p.endswith(".mat") and os.path.isfile(p[:-4] + ".hea")
                                        and p[:-4] + ".hea" in found)]
    return list(dict.fromkeys(records))


def record_id(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def read_input(path: str, npy_rate: float, npy_leads=None) -> Record:
    """One file as a :class:`Record` in mV.

    Args:
        path: ``.hea``, ``.mat`` (its ``.hea`` beside it) or ``.npy``.
        npy_rate: sampling rate in Hz of ``.npy`` files.
        npy_leads: lead names of ``.npy`` columns (None: ``lead1``, ``lead2``, ...).

    Raises:
        RecordError: the file is missing, of another type, or unreadable (the reason in one line).
    """
    from ecgtf.data.wfdb_io import read_record

    rid = record_id(path)
    if not os.path.isfile(path):
        raise RecordError(rid, f"no such file {path}")
    stem, ext = os.path.splitext(path)
    if ext in (".hea", ".mat"):
        if not os.path.isfile(stem + ".hea"):
            raise RecordError(rid, f"{path} has no header {stem}.hea beside it (a challenge .mat needs one)")
        return read_record(stem, record_id=rid)
    if ext == ".npy":
        try:
            signal = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise RecordError(rid, f"not a readable .npy file ({err})") from None
        if signal.ndim == 1:
            signal = signal[:, None]
        if signal.ndim != 2 or not np.issubdtype(signal.dtype, np.number):
            raise RecordError(rid, f"a .npy record must be a numeric (samples, leads) array, got {signal.dtype} "
                                   f"{signal.shape}")
        leads = tuple(npy_leads) if npy_leads and len(npy_leads) == signal.shape[1] else tuple(
            f"lead{i + 1}" for i in range(signal.shape[1]))
        return Record(rid, signal.astype(np.float32), leads, float(npy_rate))
    raise RecordError(rid, f"unsupported file type {ext or '(none)'}; give .hea, .mat (+ .hea) or .npy files")


def is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS)


def read_image(path: str, info) -> np.ndarray:
    """A printout image file as uint8 RGB ``(H, W, 3)``, for a model of the ``image`` kind.

    Raises:
        RecordError: the model takes signals or one image per lead, or the file does not decode.
    """
    import tensorflow as tf

    rid = record_id(path)
    if info.input_kind != "image":
        what = "one image per lead (give the record's signal file: it is rendered)" \
            if info.input_kind == "lead_images" else "signals"
        raise RecordError(rid, f"an image, but the model takes {what}")
    try:
        return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as err:
        raise RecordError(rid, f"not a readable PNG/JPEG image ({err.message.splitlines()[0][:120]})") from None
