"""Fixed-length crops of variable-length records, and crop-averaged prediction (numpy).

Zero-padding every record to the longest one teaches a model the padding (the
original CinC 2017 study's Grad-CAM showed it). Instead we train on random
fixed-length crops and, at evaluation, average predicted probabilities over
windows that cover each record's valid part. Trailing and leading rows that are
exactly zero in every lead are treated as padding and ignored, so a record's
averaged prediction does not depend on how much padding it carries. A record
shorter than the window gives one window, zero-padded on both sides (centred,
like :func:`ecgtf.data.transforms.pad_or_crop`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ecgtf.data.transforms import pad_or_crop


def valid_span(signal: np.ndarray) -> tuple[int, int]:
    """``(start, stop)`` of ``signal`` without leading/trailing all-zero rows.

    Args:
        signal: ``(samples, leads)``.

    Returns:
        Sample indices; ``(0, 0)`` for an all-zero signal.
    """
    nonzero = np.flatnonzero(np.any(np.asarray(signal) != 0, axis=1))
    if nonzero.size == 0:
        return 0, 0
    return int(nonzero[0]), int(nonzero[-1]) + 1


def window_starts(n_samples: int, length: int, hop: int | None = None, max_crops: int | None = None) -> np.ndarray:
    """Start indices of windows covering ``n_samples`` samples.

    Windows start every ``hop`` samples and one more window is aligned to the end
    when the last regular one stops short of it, so every sample is covered. With
    ``max_crops``, that many starts are spread evenly from the first to the last.

    Args:
        n_samples: valid length of the record (``>= length``).
        length: window length in samples.
        hop: samples between starts; None means ``length`` (non-overlapping).
        max_crops: at most this many windows; None for no limit.

    Returns:
        ``(K,)`` int64 starts, increasing.
    """
    hop = length if hop is None else int(hop)
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    last = n_samples - length
    starts = np.arange(0, last + 1, hop, dtype=np.int64)
    if starts[-1] != last:
        starts = np.append(starts, last)
    if max_crops is not None and starts.size > max_crops:
        starts = np.unique(np.round(np.linspace(0, last, int(max_crops))).astype(np.int64))
    return starts


def crop_windows(signal: np.ndarray, length: int, hop: int | None = None, max_crops: int | None = None) -> np.ndarray:
    """Windows covering the valid (non-padding) part of a record.

    Args:
        signal: ``(samples, leads)`` in mV; all-zero leading/trailing rows are padding.
        length: window length in samples.
        hop: samples between window starts; None means ``length``.
        max_crops: at most this many windows (evenly spread); None for no limit.

    Returns:
        ``(K, length, leads)`` float32; ``K == 1`` (centred, zero-padded) when the valid
        part is shorter than ``length``.
    """
    signal = np.asarray(signal, dtype=np.float32)
    start, stop = valid_span(signal)
    valid = signal[start:stop]
    if valid.shape[0] <= length:
        return pad_or_crop(valid, length)[None]
    starts = window_starts(valid.shape[0], length, hop, max_crops)
    return np.stack([valid[s:s + length] for s in starts])


def predict_averaged(predict_fn: Callable[[np.ndarray], np.ndarray], signals: list[np.ndarray], length: int,
                     hop: int | None = None, batch_size: int = 64, max_crops: int | None = None) -> np.ndarray:
    """Per-record predictions averaged over each record's windows.

    Windows of all records are batched together; the last batch is padded to
    ``batch_size`` with zero windows (outputs discarded) so ``predict_fn`` always sees
    the same batch shape and a compiled function is not retraced.

    Args:
        predict_fn: maps ``(batch, length, leads)`` float32 to ``(batch, C)`` probabilities
            (e.g. ``lambda x: model.predict_on_batch(spectrogram_fn(x))``).
        signals: N arrays ``(samples_i, leads)`` in mV.
        length: window length in samples.
        hop: samples between window starts; None means ``length``.
        batch_size: windows per ``predict_fn`` call.
        max_crops: at most this many windows per record.

    Returns:
        ``(N, C)`` float32 mean probabilities.
    """
    windows = [crop_windows(s, length, hop, max_crops) for s in signals]
    counts = np.array([w.shape[0] for w in windows])
    probs = predict_windows(predict_fn, np.concatenate(windows), batch_size)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.add.reduceat(probs, offsets, axis=0) / counts[:, None]


def predict_windows(predict_fn: Callable[[np.ndarray], np.ndarray], windows: np.ndarray,
                    batch_size: int = 64) -> np.ndarray:
    """``predict_fn`` over ``windows`` in batches of exactly ``batch_size`` (the last one padded
    with zero windows whose outputs are dropped), so a compiled function is traced once.

    Returns:
        ``(len(windows), C)`` float32.
    """
    outputs = []
    for i in range(0, windows.shape[0], batch_size):
        batch = windows[i:i + batch_size]
        n = batch.shape[0]
        if n < batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - n, *batch.shape[1:]), np.float32)])
        outputs.append(np.asarray(predict_fn(batch))[:n])
    return np.concatenate(outputs).astype(np.float32)
