"""The page reader: from a printout image to a described page (angle, scale, layout, panels).

Steps, each reporting what it found and a confidence (``PageReading.describe()``):

1. ``load``: any size; grey, RGB or RGBA.
2. ``deskew``: the rotation that straightens the page's lines (up to +-15 degrees).
3. ``grid``: px/mm along x and along y from the grid's own period (:mod:`ecgtf.paper.grid`).
4. ``ink``: the trace told apart from the grid (:mod:`ecgtf.paper.ink`).
5. ``rows``: the trace rows, their baselines and extent (:mod:`ecgtf.paper.layout`), each
   followed across the page (:mod:`ecgtf.paper.trace`); calibration pulses found at their ends.
6. ``layout``: 3x4, 3x4 with 1 or 3 rhythm strips, 6x2 or 12x1; the time origin (the strip's
   end less its duration, or its first inked column) and each lead's panel.

A page that fails a step raises :class:`ecgtf.paper.errors.PageReadError` naming it; nothing is
guessed silently. Without a grid the scale comes from the calibration pulse (1 mV tall) or,
failing that, from the strip's length (10 s at 25 mm/s), and the reading says so.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.ndimage

from ecgtf.paper import calibration, deskew, grid, ink, layout, trace
from ecgtf.paper.errors import PageReadError
from ecgtf.paper.image import as_rgb, load_image

SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
#: A strip this close to 10 s is taken as exactly 10 s, measured back from its end.
STANDARD_S = 10.0
SNAP_S = 0.6
#: The rate of the plotted record, when a page gives no other mark of its time 0 than its end
#: (PTB-XL's 100 Hz, the most printed public 12-lead set; ``read_page(source_rate_hz=...)``).
SOURCE_RATE_HZ = 100.0
#: How far a line's drawn end spills past its last point, as a share of the line's width
#: (measured on anti-aliased renders with butt and projecting caps).
CAP_SPILL = 0.35


@dataclasses.dataclass
class Panel:
    """One lead's stretch on the page: its row, seconds shown and image columns."""

    lead: str
    row: int
    start_s: float
    stop_s: float
    x0_px: float
    x1_px: float
    baseline_px: float
    coverage: float = 1.0


@dataclasses.dataclass
class PageReading:
    """What the reader found on a page. Images are of the deskewed page."""

    width_px: int
    height_px: int
    angle_deg: float
    angle_confidence: float
    px_per_mm_x: float
    px_per_mm_y: float
    scale_from: str
    grid_confidence: float
    grid_phase_px: tuple
    ink: dict
    layout: str
    layout_confidence: float
    x_start_px: float
    duration_s: float
    speed_mm_s: float
    gain_mm_mv: float
    rows: list
    pulses: list
    panels: list
    traces: list = dataclasses.field(repr=False, default_factory=list)
    image: np.ndarray | None = dataclasses.field(repr=False, default=None)

    @property
    def confidence(self) -> float:
        cover = min([p.coverage for p in self.panels], default=0.0)
        return round(float(min(self.angle_confidence, self.grid_confidence, self.layout_confidence, cover)), 3)

    def describe(self) -> dict:
        """The reading as JSON-able values (for the manifest and ``predict.py``'s lines)."""
        return {
            "size_px": [self.width_px, self.height_px],
            "deskew": {"angle_deg": round(self.angle_deg, 2), "confidence": round(self.angle_confidence, 3)},
            "grid": {"px_per_mm_x": round(self.px_per_mm_x, 4), "px_per_mm_y": round(self.px_per_mm_y, 4),
                     "from": self.scale_from, "confidence": round(self.grid_confidence, 3)},
            "ink": self.ink,
            "layout": {"name": self.layout, "rows": len(self.rows), "confidence": round(self.layout_confidence, 3),
                       "x_start_px": round(self.x_start_px, 1), "duration_s": round(self.duration_s, 3),
                       "speed_mm_s": self.speed_mm_s, "gain_mm_mv": self.gain_mm_mv},
            "calibration_pulses": sum(p is not None for p in self.pulses),
            "panels": [{"lead": p.lead, "row": p.row, "start_s": round(p.start_s, 3), "stop_s": round(p.stop_s, 3),
                        "x_px": [round(p.x0_px, 1), round(p.x1_px, 1)], "baseline_px": round(p.baseline_px, 1),
                        "coverage": round(p.coverage, 3)} for p in self.panels],
            "confidence": self.confidence,
        }


def _flatten_kernel(shape) -> int:
    return max(15, int(0.015 * max(shape[:2])))


def _grid_scale(flat: np.ndarray, score: np.ndarray, threshold: float):
    darkness = ink.ink_darkness(flat)
    darkness[score > threshold] = 0.0
    return grid.axis_grid(darkness, 0), grid.axis_grid(darkness, 1)


def _row_level(y: np.ndarray, px_per_mm_y: float) -> float:
    """The row's most common trace height (image y), from a histogram in 0.1 mm bins."""
    v = y[~np.isnan(y)]
    if len(v) == 0:
        return float("nan")
    step = 0.1 * px_per_mm_y
    bins = np.arange(v.min() - step, v.max() + 2 * step, step)
    hist, edges = np.histogram(v, bins=bins)
    hist = scipy.ndimage.gaussian_filter1d(hist.astype(float), 2.0)
    i = int(np.argmax(hist))
    return float(0.5 * (edges[i] + edges[i + 1]))


def _fill(y: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return y
    idx = np.arange(len(y))
    return np.interp(idx, idx[ok], y[ok])


def _boundary_evidence(mask, row_trace, x_start, ppm_x, ppm_y, duration_s) -> float:
    """How much a row looks split into four leads: ink off the trace (lead names, separators) or a
    break in it just after 2.5 s and 7.5 s, against the same just after 1.25 s and 6.25 s."""
    y, x0 = row_trace

    def off_path(t):
        xa = int(x_start + t * SPEED_MM_S * ppm_x - 0.5 * ppm_x)
        xb = int(xa + 7 * ppm_x)
        total = 0.0
        for x in range(max(xa, x0), min(xb, x0 + len(y))):
            yy = y[x - x0]
            col = mask[:, x]
            lo, hi = int(np.nan_to_num(yy, nan=0) - 12 * ppm_y), int(np.nan_to_num(yy, nan=0) + 12 * ppm_y)
            ink_ys = np.flatnonzero(col[max(lo, 0):hi]) + max(lo, 0)
            if np.isnan(yy):
                total += 1.0
                continue
            total += float(np.sum(np.abs(ink_ys - yy) > 2.0 * ppm_y)) / (ppm_y * 4)
        return total / max(xb - xa, 1)

    scale = duration_s / STANDARD_S
    at = [off_path(t * scale) for t in (2.5, 7.5)]
    ref = [off_path(t * scale) for t in (1.25, 6.25, 3.75, 8.75)]
    return float(np.clip((np.mean(at) - np.mean(ref)) / (np.mean(at) + 1e-6), 0.0, 1.0))


def _strip_ends(rows, pulses, line_px):
    """Per row, image x of the first and last drawn sample (the line's ends, less the little its
    anti-aliased end spills past the sample; past any calibration pulse, whose fall is where the
    ECG begins)."""
    starts, ends, from_pulse = [], [], []
    spill = CAP_SPILL * line_px
    for r, p in zip(rows, pulses):
        first = r.x0_px + spill
        last = r.x1_px - 1 - spill
        if p is not None and not p.at_end:
            first = p.fall_px
        elif p is not None:
            last = p.rise_px
        starts.append(first)
        ends.append(last)
        from_pulse.append(p is not None and not p.at_end)
    return np.array(starts), np.array(ends), np.array(from_pulse)


def _strip_scale(rows, pulses, line_px) -> float:
    starts, ends, _ = _strip_ends(rows, pulses, line_px)
    return float(np.median(ends) - np.median(starts)) / (STANDARD_S * SPEED_MM_S)


def _time_origin(rows, pulses, line_px, ppm_x, source_rate_hz: float = SOURCE_RATE_HZ) -> tuple[float, float]:
    """``(x_start_px, duration_s)``: image x of the page's time 0 and the strip's length.

    A strip within 0.6 s of 10 s is taken as 10 s. Plotted samples sit at ``k / fs``, so the
    strip's last drawn point is one sample short of 10 s, with ``fs`` the plotted record's rate
    (``source_rate_hz``, a prior when unknown). Marks, surest first:

    * a start that agrees with the end to 0.03 s without a pulse: the first drawn point;
    * a calibration pulse whose fall meets the ECG: the fall lands about a sample and a half
      after the ECG's start (0-35 ms after the end's mark, which is a sample early), so
      weighting the end 0.6 and the fall 0.4 cancels the sample whatever the rate;
    * otherwise (a pulse followed by a stretch of baseline, a label left of the trace): the end.
    """
    starts, ends, from_pulse = _strip_ends(rows, pulses, line_px)
    x_end = float(np.median(ends))
    x_begin = float(np.median(starts))
    px_per_s = SPEED_MM_S * ppm_x
    duration = (x_end - x_begin) / px_per_s
    if abs(duration - STANDARD_S) > SNAP_S:
        return x_begin, duration
    from_end = x_end - STANDARD_S * px_per_s
    if not from_pulse.any() and abs(from_end - x_begin) <= 0.03 * px_per_s:
        return x_begin, STANDARD_S
    if from_pulse.any() and -0.002 * px_per_s <= x_begin - from_end <= 0.035 * px_per_s:
        return 0.6 * from_end + 0.4 * x_begin, STANDARD_S
    return from_end + px_per_s / float(source_rate_hz), STANDARD_S

def read_page(source, *, max_angle_deg: float = deskew.MAX_ANGLE_DEG,
              source_rate_hz: float = SOURCE_RATE_HZ) -> PageReading:
    """Reads a printout.

    Args:
        source: an image file path, or an image array (grey, RGB or RGBA; uint8, uint16 or float).
        max_angle_deg: the widest rotation searched.
        source_rate_hz: the plotted record's sampling rate, when known (see :func:`_time_origin`).

    Raises:
        PageReadError: one line naming the step that failed.
    """
    image = load_image(source) if isinstance(source, str) else as_rgb(source)
    h, w = image.shape[:2]
    kernel = _flatten_kernel(image.shape)
    flat = ink.flatten(image, kernel)
    angle, angle_conf = deskew.estimate_angle(ink.ink_darkness(flat), max_angle_deg)
    if abs(angle) > 0.02:
        image = deskew.rotate(image, angle, border=tuple(int(v) for v in np.median(image.reshape(-1, 3), axis=0)))
        flat = ink.flatten(image, kernel)
    score = ink.trace_score(flat)
    threshold, contrast = ink.trace_threshold(score)
    if contrast < 0.1:
        raise PageReadError("ink", f"no trace stands out from the paper (contrast {contrast:.2f}); "
                                   "is the page blank or the trace the grid's colour?")
    gx, gy = _grid_scale(flat, score, threshold)
    scale_from = "grid"
    grid_conf = min(gx.confidence, gy.confidence)
    if gx.px_per_mm and gy.px_per_mm and abs(gx.px_per_mm / gy.px_per_mm - 1) > 0.25:
        # One axis locked onto a multiple of the line spacing (faint minor lines): the finer
        # period is the grid's, unless it is barely supported.
        fine, coarse = (gx, gy) if gx.px_per_mm < gy.px_per_mm else (gy, gx)
        best = fine if fine.confidence >= 0.1 else coarse
        gx = gy = best
        grid_conf *= 0.7
    ppm_x, ppm_y = gx.px_per_mm, gy.px_per_mm
    if not (ppm_x and ppm_y):
        # No grid: a provisional scale from the page's width (about 280 mm across); the rows'
        # extent and pulses settle it below.
        ppm_x = ppm_y = w / 280.0
        scale_from, grid_conf = "page width (no grid)", 0.3
    mask, ink_found = ink.trace_mask(flat, 0.5 * (ppm_x + ppm_y))
    ink_found["contrast"] = round(contrast, 3)
    rows = layout.find_rows(mask, ppm_y, ppm_x)
    # The strip should be about 10 s long at 25 mm/s: a scale 5 times off (only major lines
    # seen as minor, or the reverse) shows as a strip 50 mm or 1250 mm long.
    extent = float(np.median([r.x1_px - r.x0_px for r in rows]))
    length_mm = extent / ppm_x
    if not 150 <= length_mm <= 340:
        for factor in (5.0, 0.2):
            if 150 <= length_mm / factor <= 340 and scale_from == "grid":
                ppm_x, ppm_y = ppm_x * factor, ppm_y * factor
                grid_conf *= 0.8
                break
        else:
            if scale_from == "grid":
                raise PageReadError("grid", f"the trace rows are {length_mm:.0f} mm long at the grid's "
                                            f"{ppm_x:.2f} px/mm; a printout shows 4-13 s at 25 mm/s")
        mask, ink_found = ink.trace_mask(flat, 0.5 * (ppm_x + ppm_y))
        ink_found["contrast"] = round(contrast, 3)
        rows = layout.find_rows(mask, ppm_y, ppm_x)
    # Follow every row.
    baselines = [r.baseline_px for r in rows]
    traces, levels, widths = [], [], []
    for i, r in enumerate(rows):
        up = baselines[i] - baselines[i - 1] if i > 0 else 15 * ppm_y
        down = baselines[i + 1] - baselines[i] if i + 1 < len(rows) else 15 * ppm_y
        top = max(int(r.baseline_px - min(up, 25 * ppm_y)), 0)
        bot = min(int(r.baseline_px + min(down, 25 * ppm_y)) + 1, h)
        band = mask[top:bot, r.x0_px:r.x1_px]
        others = [b - top for j, b in enumerate(baselines) if j != i and top <= b < bot]
        y, width = trace.follow(band, r.baseline_px - top, ppm_y, other_baselines=others)
        traces.append((y + top, r.x0_px))
        widths.append(width)
        levels.append(_row_level(y + top, ppm_y))
    line_px = float(np.median(widths))
    # Calibration pulses: at a row's start or end.
    pulses = []
    for r, level in zip(rows, levels):
        p = calibration.find_pulse(mask, r.x0_px, r.x1_px, level, ppm_x, ppm_y)
        pulses.append(p if p is not None else
                      calibration.find_pulse(mask, r.x0_px, r.x1_px, level, ppm_x, ppm_y, at_end=True))
    # The columns of a start pulse's fall belong to the pulse, not to the ECG after it.
    for (y, x0), p in zip(traces, pulses):
        if p is not None and not p.at_end:
            y[:max(int(np.ceil(p.fall_px + line_px / 2.0)) + 1 - x0, 0)] = np.nan
    heights = [p.height_mm(ppm_y) for p in pulses if p is not None]
    gain = GAIN_MM_MV
    if heights:
        h_mm = float(np.median(heights))
        if scale_from != "grid":
            # The pulse is 1 mV at 10 mm/mV: it sets the scale of a page without a grid.
            ppm_y *= h_mm / GAIN_MM_MV
            ppm_x = ppm_y
            scale_from = "calibration pulse (1 mV = 10 mm)"
            grid_conf = 0.6
        else:
            gain = min((5.0, 10.0, 20.0), key=lambda g: abs(g - h_mm))
    x_start, duration = _time_origin(rows, pulses, line_px, ppm_x, source_rate_hz)
    if scale_from.startswith("page width"):
        ppm_x = ppm_y = _strip_scale(rows, pulses, line_px)
        scale_from, grid_conf = "strip length (no grid, no pulse: taken as 10 s at 25 mm/s)", 0.3
        x_start, duration = _time_origin(rows, pulses, line_px, ppm_x, source_rate_hz)
    if duration < 2.0:
        raise PageReadError("layout", f"the trace rows show only {duration:.1f} s")
    evidence = None
    if len(rows) == 6:
        evidence = np.array([_boundary_evidence(mask, t, x_start, ppm_x, ppm_y, duration) for t in traces])
    name, layout_conf = layout.choose_layout(len(rows), evidence)
    # Panels; each row's 0 mV line is its pulse's foot, else its most common level.
    panels = []
    for r, lead, t0, t1 in layout.panels_of(name, duration):
        y, x0 = traces[r]
        base = pulses[r].foot_px if pulses[r] is not None else levels[r]
        xa, xb = x_start + t0 * SPEED_MM_S * ppm_x, x_start + t1 * SPEED_MM_S * ppm_x
        ia, ib = int(max(xa - x0, 0)), int(min(xb - x0, len(y)))
        cover = float(np.mean(~np.isnan(y[ia:ib]))) if ib > ia else 0.0
        panels.append(Panel(lead, r, t0, t1, xa, xb, base, cover))
    worst = min(panels, key=lambda p: p.coverage)
    if worst.coverage < 0.5:
        raise PageReadError("trace", f"lead {worst.lead}'s panel (row {worst.row + 1}) has a trace in only "
                                     f"{100 * worst.coverage:.0f}% of its columns")
    return PageReading(w, h, angle, angle_conf, ppm_x, ppm_y, scale_from, grid_conf, (gx.phase_px, gy.phase_px),
                       ink_found, name, layout_conf, x_start, duration, SPEED_MM_S, gain,
                       [dataclasses.asdict(r) for r in rows], pulses, panels,
                       [(_fill(y), x0) for y, x0 in traces], image)
