"""Following one row's trace across the page, column by column.

In every image column the trace mask holds a few vertical runs of ink: this row's trace, a
neighbouring row's QRS reaching in, a lead name, noise. The path through them is chosen by
dynamic programming (Viterbi) over the columns: stepping from one run to the next costs the
vertical gap between them (a drawn line is continuous), and a run far from the row's own
baseline costs a little, so a crossing neighbour is not followed. Each chosen run gives the
trace's height in that column: its middle, or its tip where the run is a peak or a trough
(a QRS apex drawn as a vertical stroke).
"""

from __future__ import annotations

import numpy as np

#: At most this many runs per column are considered (the nearest to the path's baseline).
MAX_RUNS = 8


def column_runs(band: np.ndarray) -> list[np.ndarray]:
    """Per column of a 0/1 ``band``, its ink runs as an ``(k, 2)`` array of ``[top, bottom]`` rows
    (inclusive, in band coordinates)."""
    h, w = band.shape
    padded = np.zeros((w, h + 2), np.int8)
    padded[:, 1:-1] = band.T
    d = np.diff(padded, axis=1)
    sc, sr = np.nonzero(d == 1)
    ec, er = np.nonzero(d == -1)
    out = [np.zeros((0, 2), np.int64)] * w
    if len(sc) == 0:
        return out
    bounds = np.searchsorted(sc, np.arange(w + 1))
    pairs = np.stack([sr, er - 1], axis=1)
    for x in range(w):
        a, b = bounds[x], bounds[x + 1]
        if b > a:
            out[x] = pairs[a:b]
    return out


def follow(band: np.ndarray, baseline: float, px_per_mm: float, *, away_cost: float = 0.15,
           other_baselines=()) -> tuple[np.ndarray, float]:
    """``(y, line_px)``: the trace's image height (band coordinates, float) in every column of
    ``band`` (NaN where the column has no ink), and the line's width (pixels).

    Args:
        band: 0/1 trace mask ``(h, w)`` around the row.
        baseline: the row's baseline in band coordinates.
        px_per_mm: vertical scale.
        away_cost: cost per cm of distance from the baseline (in mm of jump).
        other_baselines: the neighbouring rows' baselines (band coordinates); a run nearer to
            one of them than to ours costs 3 mm more.
    """
    runs = column_runs(band)
    w = len(runs)
    others = np.asarray(list(other_baselines), dtype=np.float64)
    chosen_cols, chosen_runs = [], []
    back = []
    prev = None
    prev_cost = None
    for x in range(w):
        cur = runs[x]
        if len(cur) == 0:
            continue
        mid = cur.mean(axis=1)
        if len(cur) > MAX_RUNS:
            ref = baseline if prev is None else prev.mean(axis=1)[int(np.argmin(prev_cost))]
            keep = np.argsort(np.abs(mid - ref))[:MAX_RUNS]
            cur, mid = cur[np.sort(keep)], mid[np.sort(keep)]
        dist = np.abs(mid - baseline)
        unary = away_cost * dist / (10 * px_per_mm)
        if len(others):
            nearer = (np.abs(mid[:, None] - others[None, :]) < dist[:, None]).any(axis=1)
            unary = unary + 3.0 * nearer
        if prev is None:
            cost = unary
            back.append(np.zeros(len(cur), np.int64))
        else:
            gap = np.maximum(0, np.maximum(cur[None, :, 0] - prev[:, None, 1], prev[:, None, 0] - cur[None, :, 1]))
            total = prev_cost[:, None] + gap / px_per_mm
            arg = np.argmin(total, axis=0)
            cost = total[arg, np.arange(len(cur))] + unary
            back.append(arg)
        chosen_cols.append(x)
        chosen_runs.append(cur)
        prev, prev_cost = cur, cost - cost.min()
    y = np.full(w, np.nan)
    if not chosen_cols:
        return y, 1.0
    path = np.zeros(len(chosen_cols), np.int64)
    path[-1] = int(np.argmin(prev_cost))
    for i in range(len(chosen_cols) - 1, 0, -1):
        path[i - 1] = back[i][path[i]]
    tops = np.array([chosen_runs[i][path[i], 0] for i in range(len(path))], np.float64)
    bots = np.array([chosen_runs[i][path[i], 1] for i in range(len(path))], np.float64)
    width = float(np.median(bots - tops)) + 1.0
    mids = (tops + bots) / 2.0
    # Where the line turns (a QRS apex drawn as a vertical stroke), its tip, not the run's middle,
    # is the trace's value: a run whose middle is above (below) both neighbours' is a peak (trough).
    m_prev, m_next = np.r_[mids[0], mids[:-1]], np.r_[mids[1:], mids[-1]]
    tall = (bots - tops + 1) > 1.5 * width
    peak = tall & (((mids < m_prev) & (mids <= m_next)) | ((mids <= m_prev) & (mids < m_next)))
    trough = tall & (((mids > m_prev) & (mids >= m_next)) | ((mids >= m_prev) & (mids > m_next)))
    vals = mids.copy()
    vals[peak] = tops[peak] + (width - 1) / 2.0
    vals[trough] = bots[trough] - (width - 1) / 2.0
    y[np.asarray(chosen_cols)] = vals
    return y, width
