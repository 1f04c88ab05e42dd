"""A picture of what the reader found: the deskewed page, the measured grid's 5 mm lines, each
panel's box and lead, and the digitised trace drawn over the original one."""

from __future__ import annotations

import cv2
import numpy as np

from ecgtf.paper.reader import PageReading

GRID_BGR = (255, 160, 0)
PANEL_BGR = (0, 170, 0)
TRACE_BGR = (255, 0, 255)


def overlay_image(reading: PageReading) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB: the deskewed page with the reading drawn over it."""
    img = cv2.cvtColor(reading.image, cv2.COLOR_RGB2BGR)
    out = (0.55 * img + 0.45 * 255).astype(np.uint8)  # faded, so the drawing stands out
    h, w = out.shape[:2]
    major_x, major_y = 5 * reading.px_per_mm_x, 5 * reading.px_per_mm_y
    phase_x, phase_y = reading.grid_phase_px
    if reading.scale_from == "grid":
        for x in np.arange(phase_x % major_x, w, major_x):
            cv2.line(out, (int(round(x)), 0), (int(round(x)), h - 1), GRID_BGR, 1)
        for y in np.arange(phase_y % major_y, h, major_y):
            cv2.line(out, (0, int(round(y))), (w - 1, int(round(y))), GRID_BGR, 1)
    thick = max(1, int(round(0.25 * reading.px_per_mm_y)))
    half = 0.5 * min(np.diff([r["baseline_px"] for r in reading.rows]), default=30 * reading.px_per_mm_y)
    font = max(0.4, 0.12 * reading.px_per_mm_y)
    for p in reading.panels:
        top, bot = int(p.baseline_px - half * 0.95), int(p.baseline_px + half * 0.95)
        cv2.rectangle(out, (int(p.x0_px), top), (int(p.x1_px), bot), PANEL_BGR, thick)
        cv2.putText(out, p.lead, (int(p.x0_px) + 3 * thick, top + int(4 * reading.px_per_mm_y)),
                    cv2.FONT_HERSHEY_SIMPLEX, font, PANEL_BGR, thick, cv2.LINE_AA)
        y, x0 = reading.traces[p.row]
        xs = np.arange(int(np.ceil(p.x0_px)), int(np.floor(p.x1_px)))
        xs = xs[(xs >= x0) & (xs < x0 + len(y))]
        ys = y[xs - x0]
        ok = ~np.isnan(ys)
        if ok.sum() > 1:
            pts = np.stack([xs[ok], np.round(ys[ok])], axis=1).astype(np.int32)
            cv2.polylines(out, [pts], False, TRACE_BGR, max(1, thick // 2), cv2.LINE_AA)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
