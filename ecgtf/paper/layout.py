"""Where the traces are: the rows of the ECG block, their extent, and the layout they make.

Rows: the trace mask's row profile peaks at every trace's baseline (the isoelectric line is
long and flat). A peak is a trace row when its band is inked over most of the block's width
without long breaks; header text, footers and lead names are not.

Layouts (:data:`LAYOUTS`): the number of rows decides, except that 6 rows are either ``6x2``
or ``3x4`` with three rhythm strips; the lead boundaries then decide (a jump of the trace, a
gap, a separator or a lead name at 2.5 s and 7.5 s in the upper rows but not the lower ones).
The leads of each row and the seconds each column shows follow the standard clinical
conventions (3x4: I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6, 2.5 s a column; 6x2: limb
leads over 0-5 s, chest leads over 5-10 s).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.ndimage
import scipy.signal

from ecgtf.paper.errors import PageReadError

LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))

#: layout name -> rows, each a tuple of leads sharing the row's seconds equally.
LAYOUTS = {
    "3x4": _3X4,
    "3x4_1r": _3X4 + (("II",),),
    "3x4_3r": _3X4 + (("II",), ("V1",), ("V5",)),
    "6x2": tuple(zip(("I", "II", "III", "aVR", "aVL", "aVF"), ("V1", "V2", "V3", "V4", "V5", "V6"))),
    "12x1": tuple((name,) for name in LEAD_NAMES),
}
LAYOUT_BY_ROWS = {3: "3x4", 4: "3x4_1r", 12: "12x1"}
#: A trace row is inked over at least this share of the block's columns.
MIN_COVERAGE = 0.7


@dataclasses.dataclass(frozen=True)
class Row:
    """One trace row: ``baseline_px`` (image y of its most common level), ``x0_px``/``x1_px`` (the
    inked extent) and ``coverage`` (inked share of the columns in between)."""

    baseline_px: float
    x0_px: int
    x1_px: int
    coverage: float


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def inked_extent(mask_band: np.ndarray, max_gap_px: int) -> tuple[int, int, float]:
    """``(x0, x1, coverage)``: the longest stretch of columns inked in ``mask_band`` allowing gaps up
    to ``max_gap_px``, and the inked share of its columns."""
    cols = mask_band.any(axis=0)
    if not cols.any():
        return 0, 0, 0.0
    closed = scipy.ndimage.binary_closing(cols, structure=np.ones(max(int(max_gap_px), 1) * 2 + 1))
    closed |= cols
    runs = _runs(closed)
    x0, x1 = max(runs, key=lambda r: r[1] - r[0])
    return int(x0), int(x1), float(cols[x0:x1].mean())


def find_rows(mask: np.ndarray, px_per_mm_y: float, px_per_mm_x: float) -> list[Row]:
    """The trace rows of a deskewed trace mask, top to bottom.

    Raises:
        PageReadError: no row of trace was found (step ``rows``).
    """
    h, w = mask.shape
    profile = mask.sum(axis=1).astype(np.float64)
    smooth = scipy.ndimage.gaussian_filter1d(profile, max(0.4 * px_per_mm_y, 1.0))
    min_dist = max(int(6 * px_per_mm_y), 2)
    peaks, _ = scipy.signal.find_peaks(smooth, distance=min_dist, height=0.15 * smooth.max() if smooth.max() else 1)
    # A trace row is inked near its baseline in nearly every column (a QRS's strokes cross
    # it); a line of text is not.
    near = 5 * px_per_mm_y
    candidates = []
    for y in peaks:
        band = mask[max(int(y - near), 0): int(y + near) + 1]
        x0, x1, cover = inked_extent(band, int(2 * px_per_mm_x))
        candidates.append((int(y), x0, x1, cover))
    widest = max((x1 - x0 for _, x0, x1, _ in candidates), default=0)
    kept = [y for y, x0, x1, cover in candidates
            if cover >= MIN_COVERAGE and (x1 - x0) >= 0.6 * widest and (x1 - x0) >= 40 * px_per_mm_x]
    # Each kept row's extent over the band reaching half-way to its kept neighbours (at most 15 mm),
    # which holds its calibration pulse and tall QRS complexes.
    rows = []
    for i, y in enumerate(kept):
        up = min(15 * px_per_mm_y, (y - kept[i - 1]) / 2) if i > 0 else 15 * px_per_mm_y
        down = min(15 * px_per_mm_y, (kept[i + 1] - y) / 2) if i + 1 < len(kept) else 15 * px_per_mm_y
        x0, x1, cover = inked_extent(mask[max(int(y - up), 0): int(y + down) + 1], int(2 * px_per_mm_x))
        top = max(y - int(2 * px_per_mm_y), 0)
        rows.append(Row(float(_level(mask[top: y + int(2 * px_per_mm_y) + 1, x0:x1]) + top), x0, x1, round(cover, 3)))
    if not rows:
        raise PageReadError("rows", "no trace row found (no band of ink runs across the page)")
    return rows


def _level(band: np.ndarray) -> float:
    """The most inked line of a band (its flat, isoelectric level), sub-pixel."""
    prof = band.sum(axis=1).astype(np.float64)
    i = int(np.argmax(prof))
    if 0 < i < len(prof) - 1:
        a, b, c = prof[i - 1], prof[i], prof[i + 1]
        tot = a + b + c
        return i + (c - a) / tot if tot > 0 else float(i)
    return float(i)


def choose_layout(n_rows: int, boundary_evidence: np.ndarray | None = None) -> tuple[str, float]:
    """``(layout, confidence)`` for ``n_rows`` trace rows.

    Args:
        n_rows: rows found.
        boundary_evidence: for 6 rows, per row, the evidence (0-1) of lead boundaries at 2.5 s and
            7.5 s (where ``3x4`` rows change lead and ``6x2`` rows do not).

    Raises:
        PageReadError: no known layout has that many rows (step ``layout``).
    """
    if n_rows in LAYOUT_BY_ROWS:
        return LAYOUT_BY_ROWS[n_rows], 0.9
    if n_rows == 6:
        if boundary_evidence is None:
            return "6x2", 0.5
        upper, lower = float(np.mean(boundary_evidence[:3])), float(np.mean(boundary_evidence[3:]))
        if upper - lower > 0.25:
            return "3x4_3r", min(1.0, 0.5 + upper - lower)
        return "6x2", min(1.0, 0.5 + max(0.0, 0.5 - upper))
    raise PageReadError("layout", f"found {n_rows} trace rows; the layouts read are 3x4 (3 rows), 3x4 with 1 or 3 "
                                  "rhythm strips (4 or 6), 6x2 (6) and 12x1 (12)")


def panels_of(layout: str, duration_s: float) -> list[tuple[int, str, float, float]]:
    """``(row, lead, start_s, stop_s)`` of every panel of ``layout`` over a strip of ``duration_s``."""
    out = []
    for r, leads in enumerate(LAYOUTS[layout]):
        col_s = duration_s / len(leads)
        for c, lead in enumerate(leads):
            out.append((r, lead, c * col_s, (c + 1) * col_s))
    return out
