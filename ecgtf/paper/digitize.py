"""From a read page to a 12-lead signal in mV at a chosen rate.

Each panel's followed trace is sampled at the panel's seconds: image column
``x_start + t * speed * px_per_mm_x``, value ``(baseline - y) / (gain * px_per_mm_y)`` mV. The
signal starts at the page's time 0 and spans the strip; a lead is NaN where no panel shows it.
A lead shown twice (in the 3x4 block and in a rhythm strip) keeps the shorter panel's samples
where both show it; the rhythm strip fills the rest.
"""

from __future__ import annotations

import numpy as np

from ecgtf.paper.layout import LEAD_NAMES
from ecgtf.paper.reader import PageReading

DEFAULT_RATE_HZ = 500.0


def digitize_reading(reading: PageReading, sampling_rate: float = DEFAULT_RATE_HZ) -> np.ndarray:
    """``(samples, 12)`` float32 mV at ``sampling_rate`` Hz, leads in :data:`LEAD_NAMES` order, NaN
    where the page does not show a lead."""
    fs = float(sampling_rate)
    n = int(round(reading.duration_s * fs))
    out = np.full((n, len(LEAD_NAMES)), np.nan, np.float32)
    mm_per_s = reading.speed_mm_s
    for panel in sorted(reading.panels, key=lambda p: p.stop_s - p.start_s):
        y, x0 = reading.traces[panel.row]
        first = int(np.ceil(panel.start_s * fs - 1e-9))
        last = min(int(np.ceil(panel.stop_s * fs - 1e-9)), n)
        k = np.arange(first, last)
        x = reading.x_start_px + (k / fs) * mm_per_s * reading.px_per_mm_x - x0
        inside = (x >= 0) & (x <= len(y) - 1)
        values = np.full(len(k), np.nan)
        values[inside] = np.interp(x[inside], np.arange(len(y)), y)
        mv = (panel.baseline_px - values) / (reading.gain_mm_mv * reading.px_per_mm_y)
        col = LEAD_NAMES.index(panel.lead)
        target = out[first:last, col]
        fill = np.isnan(target)
        target[fill] = mv[fill]
        out[first:last, col] = target
    return out
