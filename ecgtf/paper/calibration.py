"""The calibration pulse: a 1 mV rectangle at the start (or end) of a row, drawn at the page's gain.

Found in the trace mask, within the first (last) 15 mm of a row: a horizontal stroke 2-9 mm
long, 4-25 mm above the row's level (its top), joined to the level by a vertical stroke at
each end (its rise and fall). Its foot is the row's 0 mV line, its height the gain (mm per
mV), and its fall marks where the ECG starts on many printouts.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SEARCH_MM = 15.0


@dataclasses.dataclass(frozen=True)
class Pulse:
    """A calibration pulse: image columns (centres) of its rise and fall, and image y of its foot
    (0 mV) and top."""

    rise_px: float
    fall_px: float
    foot_px: float
    top_px: float
    at_end: bool = False

    def height_mm(self, px_per_mm_y: float) -> float:
        return (self.foot_px - self.top_px) / px_per_mm_y


def _runs(flags):
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def find_pulse(mask: np.ndarray, x0: int, x1: int, level: float, px_per_mm_x: float, px_per_mm_y: float,
               at_end: bool = False) -> Pulse | None:
    """The pulse at the start (``at_end``: the end) of a row inked over columns ``[x0, x1)`` whose
    most common trace height is image y ``level``; None when there is none."""
    n = int(SEARCH_MM * px_per_mm_x)
    a0 = x1 - n if at_end else x0
    a0 = max(a0, 0)
    top_lo = int(max(level - 25 * px_per_mm_y, 0))
    top_hi = int(max(level - 4 * px_per_mm_y, 0))
    if top_hi <= top_lo:
        return None
    window = mask[top_lo:int(level + 1.5 * px_per_mm_y) + 1, a0:a0 + n].astype(bool)
    best = None
    for r in range(top_hi - top_lo):
        for s, e in _runs(window[r]):
            length_mm = (e - s) / px_per_mm_x
            if 2.0 <= length_mm <= 9.0 and (best is None or e - s > best[2] - best[1]):
                best = (r, s, e)
    if best is None:
        return None
    r, s, e = best
    # The top stroke's rows: this one and the inked rows touching it.
    rows = [r]
    while rows[-1] + 1 < window.shape[0] and window[rows[-1] + 1, s:e].mean() > 0.6:
        rows.append(rows[-1] + 1)
    top = top_lo + float(np.mean(rows))
    foot_row = int(round(level - top_lo))

    # The rows a side stroke must ink: from the top down to at least 3 mm above the level (the
    # foot may sit off it).
    side = slice(rows[-1], max(foot_row - int(3 * px_per_mm_y), rows[-1] + 1) + 1)

    def vertical(col):
        # Over three columns: a scanned stroke leans by a pixel or two.
        if not 0 <= col < window.shape[1]:
            return False
        span = window[side, max(col - 1, 0):col + 2]
        return len(span) > 0 and span.any(axis=1).mean() > 0.9

    # Each side is a vertical stroke a few pixels thick: its centre is the mean of the columns
    # inked over the stroke's whole height.
    def stroke(lo, hi):
        return [c for c in range(lo, hi) if 0 <= c < window.shape[1] and window[side, c].mean() > 0.9]

    if not any(vertical(c) for c in range(s - 2, s + 3)) or not any(vertical(c) for c in range(e - 3, e + 2)):
        return None
    rise = stroke(s - 3, s + 4) or [s]
    fall = stroke(e - 4, e + 3) or [e - 1]
    # The foot (0 mV) is where the rise (the fall, for a pulse at the end) comes down to: the
    # bottom of its vertical stroke, less half the line's width.
    col = rise[0] if not at_end else fall[-1]
    bottom = rows[-1]
    while bottom + 1 < window.shape[0] and window[bottom + 1, max(col - 1, 0):col + 2].any():
        bottom += 1
    foot = top_lo + bottom - (len(rows) - 1) / 2.0
    if abs(foot - level) > 3 * px_per_mm_y:
        foot = float(level)
    return Pulse(a0 + float(np.mean(rise)), a0 + float(np.mean(fall)), float(foot), top, at_end)
