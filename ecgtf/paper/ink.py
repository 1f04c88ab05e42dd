"""What is ink and what is paper: the trace, told apart from the grid by colour and shape.

A photo's paper is unevenly lit, so each channel is first divided by its local paper level
(a wide morphological closing, which lifts every thin dark line to the paper around it). On
that flattened page:

* ``darkness`` is ``1 - max(R, G, B)``: near 1 for black or grey ink, low for a pink grid;
* ``chroma`` is ``max - min`` of the channels: near 0 for neutral ink, high for a coloured grid.

The trace is the dark, neutral ink: score ``darkness - chroma``. Its threshold is set per
page between the grid's level and the trace's own (the score's upper tail), so a pink, green,
blue, brown or grey grid all fall below it. A grid as dark and grey as the trace passes the
threshold; its lines are then removed by shape (long straight rows and columns of ink, which
a trace never draws), and so are page borders.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The trace makes up a small share of a page; the score's tail above this quantile is trace.
TRACE_QUANTILE = 0.995


def paper_level(image_rgb: np.ndarray, kernel_px: int) -> np.ndarray:
    """Per-pixel, per-channel paper brightness (float32 0-255): a closing wider than any
    line, smoothed. Computed on a copy reduced so the kernel is 9 px wide (the paper's light
    varies slowly), then enlarged back."""
    h, w = image_rgb.shape[:2]
    factor = max(1.0, kernel_px / 9.0)
    small = cv2.resize(image_rgb, (max(int(w / factor), 8), max(int(h / factor), 8)), interpolation=cv2.INTER_AREA) \
        if factor > 1 else image_rgb
    k = max(3, int(round(kernel_px / factor)) | 1)
    # Area averaging greys thin lines out; a minimum over the reduced pixel's neighbours would
    # not: the closing's max filter then lifts them back to the paper.
    se = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, se)
    closed = cv2.GaussianBlur(closed.astype(np.float32), (0, 0), k / 2.0)
    if factor > 1:
        closed = cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR)
    return closed + 1.0


def flatten(image_rgb: np.ndarray, kernel_px: int) -> np.ndarray:
    """The page divided by its paper level, float32 in [0, 1] (paper near 1)."""
    return np.clip(image_rgb.astype(np.float32) / paper_level(image_rgb, kernel_px), 0.0, 1.0)


def trace_score(flat: np.ndarray) -> np.ndarray:
    """``darkness - chroma`` of a flattened page (float32, about -1..1; ink near 1)."""
    hi = flat.max(axis=2)
    lo = flat.min(axis=2)
    return (1.0 - hi) - (hi - lo)


def ink_darkness(flat: np.ndarray) -> np.ndarray:
    """Any ink, grid included: ``1 - mean(R, G, B)`` of a flattened page."""
    return 1.0 - flat.mean(axis=2)


def trace_threshold(score: np.ndarray) -> tuple[float, float]:
    """``(threshold, contrast)``: half-way between the page's grid level and the trace's level.

    The trace level is the score's :data:`TRACE_QUANTILE` quantile; the grid level its 90th
    percentile (paper and grid lines make up most of a page). ``contrast`` is their difference.
    """
    sample = score[::2, ::2].ravel()
    trace = float(np.quantile(sample, TRACE_QUANTILE))
    grid = float(np.quantile(sample, 0.90))
    return max(0.5 * (trace + grid), 0.2), trace - grid


def remove_lines(mask: np.ndarray, min_len_px: int) -> np.ndarray:
    """``mask`` without straight horizontal or vertical ink longer than ``min_len_px``."""
    n = max(int(min_len_px), 3)
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    lines |= cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    return mask & ~lines


def trace_mask(flat: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, dict]:
    """``(mask, found)``: uint8 0/1 trace pixels of a flattened, deskewed page and what was measured
    (threshold, contrast, the share of the page that is trace)."""
    score = trace_score(flat)
    thr, contrast = trace_threshold(score)
    mask = (score > thr).astype(np.uint8)
    mask = remove_lines(mask, int(round(40 * px_per_mm)))
    return mask, {"threshold": round(thr, 3), "contrast": round(contrast, 3),
                  "ink_share": round(float(mask.mean()), 4)}
