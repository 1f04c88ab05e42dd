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

from ecgtf.render.opencv_renderer import render_leads, render_printout
from ecgtf.render.paper import get_layout
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


def record_image(signal: np.ndarray, record_id: str) -> np.ndarray:
    """The image of one record with this process's settings, augmented with a seed made from
    the run's seed and the record id. The ``lead`` layout's images are augmented one by one
    (each its own photo; a warp never moves one lead's trace into its neighbour's image) and
    stacked one above the other."""
    s = _STATE
    seed = image_seed(s["seed"], zlib.crc32(record_id.encode()))
    layout = get_layout(s["layout"]) if isinstance(s["layout"], str) else s["layout"]
    if layout.per_lead:
        images = render_leads(signal, s["rate"], s["leads"], s["style"])
        if s["augment"].active:
            images = [augment_photo(img, s["augment"], image_seed(seed, k)) for k, img in enumerate(images)]
        return np.concatenate(list(images), axis=0)
    img = render_printout(signal, s["rate"], s["leads"], layout, s["style"])
    return augment_photo(img, s["augment"], seed) if s["augment"].active else img


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
        write_png(path, record_image(signal, str(record_id)))
    except (ValueError, OSError) as err:
        return record_id, f"render failed: {' '.join(str(err).split())}"
    return record_id, None
