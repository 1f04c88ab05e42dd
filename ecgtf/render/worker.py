"""The per-record work of :func:`ecgtf.render.batch.render_dataset`, light enough to start fast.

A worker process imports only NumPy, OpenCV and the drawing modules (not pandas, not the
dataset readers): it reads signals from the record store's memory-mapped array by file name,
shape and dtype, so ``-j N`` starts N workers in well under the time a full ``ecgtf`` import
takes.
"""

from __future__ import annotations

import os
import threading
import time
import zlib

import numpy as np

from ecgtf.render.opencv_renderer import render_printout
from ecgtf.render.photo import augment_photo, get_preset, image_seed
from ecgtf.render.png import write_png

_STATE: dict = {}


def exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed stops instead of rendering on as an orphan."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def init(signals, sampling_rate, lead_names, layout, style, augment: str, seed: int, parent: int | None = None):
    """Sets up this process for :func:`render_one`.

    Args:
        signals: the store's ``(total_samples, leads)`` float32 array, or ``(file, dtype,
            shape)`` of its memory map (worker processes open it themselves).
        sampling_rate: Hz.
        lead_names: the signals' lead names.
        layout, style: what to draw (:mod:`ecgtf.render.paper`).
        augment: photo augmentation preset name.
        seed: augmentation seed.
        parent: process id to watch; the worker exits when it is gone.
    """
    if isinstance(signals, tuple):
        path, dtype, shape = signals
        signals = np.memmap(path, dtype=np.dtype(dtype), mode="r", shape=tuple(shape))
    if parent is not None:
        exit_with_parent(parent)
    _STATE.update(signals=signals, rate=float(sampling_rate), leads=list(lead_names), layout=layout, style=style,
                  augment=get_preset(augment), seed=int(seed))


def render_one(item):
    """Renders one record to its PNG.

    Args:
        item: ``(offset, length, record_id, path)``: the record's rows in the signals array
            and where its PNG goes.

    Returns:
        ``(record_id, None)``, or ``(record_id, reason)`` when it could not be rendered.
    """
    offset, length, record_id, path = item
    s = _STATE
    try:
        signal = np.asarray(s["signals"][offset:offset + length], dtype=np.float32)
        if not np.all(np.isfinite(signal)):
            return record_id, "signal holds NaN or infinite values"
        img = render_printout(signal, s["rate"], s["leads"], s["layout"], s["style"])
        if s["augment"].active:
            img = augment_photo(img, s["augment"], image_seed(s["seed"], zlib.crc32(str(record_id).encode())))
        write_png(path, img)
    except (ValueError, OSError) as err:
        return record_id, f"render failed: {' '.join(str(err).split())}"
    return record_id, None
