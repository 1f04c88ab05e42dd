"""Printouts that look like the world's: many grid colours, weights, fonts, label positions,
calibration pulses, pages, scales and headers, with exact ground truth for a page reader.

:func:`render_world_page` draws one record on a page of a :class:`WorldStyle` (drawn by
:func:`random_style` from one of :data:`STYLE_FAMILIES`) and returns a :class:`WorldPage`: the
image, where every trace is (``panels``, pixels) and the signal the page shows (``truth_mv``,
NaN where no panel shows a lead).

Geometry: a sample at ``t`` s of a panel is drawn at ``x = x0_px + (t - start_s) *
speed_mm_s * px_per_mm`` and ``y = baseline_y_px - v * gain_mm_mv * px_per_mm`` (pixel centres at
integer coordinates, anti-aliased at 1/16 px). Grid lines lie at ``grid_origin + k *
px_per_mm`` with fractional widths (anti-aliased); with ``grid_offset_mm == (0, 0)`` baselines
and trace starts lie on 5 mm lines.

Everything but the traces (paper, grid, labels, calibration pulses, separators, header) depends on
the style only and is cached per style.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import os
import threading

import cv2
import numpy as np

from ecgtf.render.paper import lead_index
from ecgtf.render.world_style import (CAL_LEAD_MM, CAL_PULSE_MV, CAL_PULSE_S, LAYOUT_NAMES, LAYOUTS, LEAD_NAMES,
                                      STYLE_FAMILIES, WORLD_S, WorldPlan, WorldStyle, page_mm, plan_world_page,
                                      random_style)

__all__ = ["LAYOUT_NAMES", "LAYOUTS", "LEAD_NAMES", "STYLE_FAMILIES", "WORLD_S", "WorldPage", "WorldStyle",
           "plan_world_page", "random_style", "render_world_page"]

_SHIFT = 4  # polyline coordinates in 1/16 px
_ONE = 1 << _SHIFT


@dataclasses.dataclass
class WorldPage:
    """One rendered page and its ground truth.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB.
        style: the :class:`WorldStyle` it was drawn in.
        px_per_mm: pixels per mm of ECG grid (1 mm = 0.04 s = 0.1 mV at 25 mm/s, 10 mm/mV).
        truth_mv: ``(round(10 s * sampling_rate), 12)`` float32 mV, columns in
            :data:`LEAD_NAMES` order, time 0 = the page's 0 s; NaN where no panel shows the lead
            (or the record has no value: past its end, or NaN in it).
        sampling_rate: Hz of ``truth_mv``.
        lead_names: :data:`LEAD_NAMES`.
        panels: one dict per drawn trace: ``lead`` (name), ``start_s``, ``stop_s`` (it shows
            ``[start_s, stop_s)``), ``x0_px``, ``x1_px`` (x of ``start_s`` and ``stop_s``),
            ``baseline_y_px`` (y of 0 mV), ``row``, ``col``.
        block_px: (x0, y0, x1, y1) of the ECG block (px).
    """

    image: np.ndarray
    style: WorldStyle
    px_per_mm: float
    truth_mv: np.ndarray
    sampling_rate: float
    lead_names: tuple
    panels: list
    block_px: tuple


# --- the grid --------------------------------------------------------------------------------------

def _coverage(n: int, origin: float, step: float, width: float, lo: int, hi: int, keep=None) -> np.ndarray:
    """Fraction of pixels ``lo..hi-1`` (of ``n``) covered by lines ``width`` px wide centred at
    ``origin + k * step`` (``keep(k)`` selects lines); pixel ``i`` spans ``[i - 0.5, i + 0.5]``."""
    cov = np.zeros(n, np.float32)
    if width <= 0:
        return cov
    k = np.arange(math.ceil((lo - width - 1 - origin) / step), math.floor((hi + width + 1 - origin) / step) + 1)
    if keep is not None:
        k = k[keep(k)]
    c = origin + k * step
    half = width / 2.0
    near = np.floor(c + 0.5).astype(np.int64)
    reach = int(math.ceil(half)) + 1
    for j in range(-reach, reach + 1):
        i = near + j
        ov = np.clip(np.minimum(i + 0.5, c + half) - np.maximum(i - 0.5, c - half), 0.0, 1.0)
        ok = (i >= lo) & (i < hi) & (ov > 0)
        np.add.at(cov, i[ok], ov[ok].astype(np.float32))
    return np.minimum(cov, 1.0)


def _blend(block: np.ndarray, alpha: np.ndarray, color) -> None:
    """``block += alpha * (color - block)`` (float32 ``(..., 3)``, ``alpha`` broadcast over RGB)."""
    block += alpha[..., None] * (np.asarray(color, np.float32) - block)


def _draw_grid(img: np.ndarray, plan: WorldPlan, style: WorldStyle) -> None:
    """Paints the grid onto ``img`` (uint8 RGB of plain paper) inside the style's extent.

    Lines are blended in order (1 mm lines, then 5 mm lines over them); only the pixel rows and
    columns a line touches are computed in float.
    """
    if style.grid == "none":
        return
    h, w = img.shape[:2]
    if style.grid_extent == "block":
        bx0, by0, bx1, by1 = plan.block_px
        x_lo, y_lo = max(0, int(math.floor(bx0 + 0.5))), max(0, int(math.floor(by0 + 0.5)))
        x_hi, y_hi = min(w, int(math.floor(bx1 + 0.5)) + 1), min(h, int(math.floor(by1 + 0.5)) + 1)
    else:
        x_lo, y_lo, x_hi, y_hi = 0, 0, w, h
    ox, oy = plan.grid_origin_px
    ppm = plan.px_per_mm
    region = img[y_lo:y_hi, x_lo:x_hi]

    def cov_x(step, width, keep=None):
        return _coverage(w, ox, step, width, x_lo, x_hi, keep)[x_lo:x_hi]

    def cov_y(step, width, keep=None):
        return _coverage(h, oy, step, width, y_lo, y_hi, keep)[y_lo:y_hi]

    def minor_only(k):
        return k % 5 != 0

    def major_only(k):
        return k % 5 == 0

    big_x = cov_x(ppm, style.major_width_px, major_only)
    big_y = cov_y(ppm, style.major_width_px, major_only)
    if style.dotted:
        # Dots at the 1 mm crossings; 5 mm lines of dots every 0.5 mm.
        mx, my = cov_x(ppm, style.minor_width_px), cov_y(ppm, style.minor_width_px)
        dot_x, dot_y = cov_x(ppm / 2, style.major_width_px), cov_y(ppm / 2, style.major_width_px)
        cols = np.flatnonzero(big_x > 0)
        block = region[:, cols].astype(np.float32)
        _blend(block, dot_y[:, None] * big_x[None, cols], style.major_color)
        region[:, cols] = np.rint(block).astype(np.uint8)
        rows = np.flatnonzero((my > 0) | (big_y > 0))
        block = region[rows].astype(np.float32)
        _blend(block, my[rows, None] * (mx * (1.0 - big_x))[None, :], style.minor_color)
        _blend(block, big_y[rows, None] * dot_x[None, :], style.major_color)
        region[rows] = np.rint(block).astype(np.uint8)
        return
    mx, my = cov_x(ppm, style.minor_width_px, minor_only), cov_y(ppm, style.minor_width_px, minor_only)
    line = np.empty((x_hi - x_lo, 3), np.float32)
    line[:] = np.asarray(style.paper_color, np.float32)
    _blend(line, mx, style.minor_color)
    _blend(line, big_x, style.major_color)  # the vertical lines: every pixel row the same
    region[:] = np.rint(line).astype(np.uint8)
    rows = np.flatnonzero((my > 0) | (big_y > 0))
    block = np.repeat(line[None], len(rows), axis=0)
    _blend(block, my[rows, None] * (1.0 - big_x)[None, :], style.minor_color)
    _blend(block, np.broadcast_to(big_y[rows, None], block.shape[:2]), style.major_color)
    region[rows] = np.rint(block).astype(np.uint8)


# --- text ------------------------------------------------------------------------------------------

_FONT_FILES = {  # family -> (regular, bold, italic, bold italic) in matplotlib's mpl-data/fonts/ttf
    "DejaVu Sans": ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique"),
    "DejaVu Serif": ("DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic"),
    "DejaVu Sans Mono": ("DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique",
                         "DejaVuSansMono-BoldOblique"),
    "STIXGeneral": ("STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta"),
    "cmr10": ("cmr10", "cmb10", "cmti10", "cmb10"),
    "cmss10": ("cmss10",) * 4,
    "cmtt10": ("cmtt10",) * 4,
}
_fonts = threading.local()  # FT2Font objects are stateful: one per thread


def _font_path(style: WorldStyle) -> str:
    import matplotlib

    name = _FONT_FILES[style.font][int(style.text_bold) + 2 * int(style.font_italic)]
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name + ".ttf")


def _ft2font(path: str):
    cache = getattr(_fonts, "cache", None)
    if cache is None:
        cache = _fonts.cache = {}
    if path not in cache:
        from matplotlib.ft2font import FT2Font

        cache[path] = FT2Font(path)
    return cache[path]


def _rasterise(path: str, text: str, size_px: float) -> tuple[np.ndarray, float, float]:
    """``text`` at an em of ``size_px``: (coverage 0-255 ``(h, w)``, left offset, descent) (px)."""
    font = _ft2font(path)
    font.set_size(size_px, 72.0)  # 72 dpi: 1 pt = 1 px
    font.set_text(text, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    return np.array(font.get_image()), font.get_bitmap_offset()[0] / 64.0, font.get_descent() / 64.0


@functools.lru_cache(maxsize=64)
def _cap_per_em(path: str) -> float:
    """Height of a capital H over the em size of the font at ``path``."""
    bitmap, _, _ = _rasterise(path, "H", 200.0)
    rows = np.flatnonzero(bitmap.max(axis=1) > 127)
    return (rows[-1] - rows[0] + 1) / 200.0


def _text(img, text: str, x: float, y: float, height_px: float, style: WorldStyle, align: str = "left") -> None:
    """Writes ``text`` (anti-aliased, in ``style.text_color``) with its baseline at ``y`` and its
    left (or right) end at ``x`` (px); ``height_px``: capital letter height."""
    path = _font_path(style)
    bitmap, xo, descent = _rasterise(path, text, max(1.0, height_px / _cap_per_em(path)))
    hb, wb = bitmap.shape
    left = int(round(x + xo - (wb if align == "right" else 0)))
    top = int(round(y + descent)) - hb
    y0, x0 = max(0, top), max(0, left)
    y1, x1 = min(img.shape[0], top + hb), min(img.shape[1], left + wb)
    if y1 <= y0 or x1 <= x0:
        return
    alpha = bitmap[y0 - top:y1 - top, x0 - left:x1 - left].astype(np.float32) / 255.0
    region = img[y0:y1, x0:x1].astype(np.float32)
    _blend(region, alpha, style.text_color)
    img[y0:y1, x0:x1] = np.rint(region).astype(np.uint8)


_SURNAMES = ("SMITH", "MUELLER", "GARCIA", "ROSSI", "NOWAK", "DUBOIS", "JANSEN", "SILVA", "KOWALSKI", "BROWN",
             "NGUYEN", "SATO", "IVANOV", "HANSEN", "MARTIN", "LOPEZ", "WEBER", "MOORE", "KIM", "COHEN")
_GIVEN = ("ANNA", "JOHN", "MARIA", "PETER", "ELENA", "DAVID", "SOFIA", "JAMES", "LAURA", "KARL", "MEI", "OMAR")
_STATEMENTS = ("Sinus rhythm", "Normal sinus rhythm", "Normal ECG", "Borderline ECG", "Abnormal ECG",
               "Unconfirmed report", "Otherwise normal ECG", "Compared with previous tracing: no change")


def _header_lines(style: WorldStyle) -> tuple[list, str]:
    """Made-up patient and measurement text (seeded by ``text_seed``): three columns of lines,
    and the footer line (speed, gain, filters)."""
    rng = np.random.default_rng(style.text_seed)
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    when = datetime.datetime(2004, 1, 1) + datetime.timedelta(minutes=int(rng.integers(0, 20 * 365 * 24 * 60)))
    date = when.strftime(pick(("%d-%b-%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M %p", "%d.%m.%Y %H:%M")))
    hr = int(rng.integers(48, 115))
    qt = int(rng.integers(320, 440))
    qtc = int(qt / math.sqrt(60.0 / hr))
    axes = " ".join(str(int(rng.integers(-30, 91))) for _ in range(3))
    hi = pick((40, 100, 150, 150))
    mains = pick((50, 60))
    speed_gain = f"{style.speed_mm_s:g} mm/s   {style.gain_mm_mv:g} mm/mV"
    filters = f"0.{pick(('05', '05', '5', '15'))}-{hi} Hz   {mains} Hz"
    patient = [f"{pick(_SURNAMES)}, {pick(_GIVEN)}", f"ID: {int(rng.integers(10 ** 6, 10 ** 8))}",
               f"{int(rng.integers(18, 96))} yr   {pick(('Male', 'Female'))}", date]
    measures = [f"Vent. rate  {hr} BPM", f"PR interval  {int(rng.integers(120, 210))} ms",
                f"QRS duration  {int(rng.integers(70, 125))} ms", f"QT/QTc  {qt}/{qtc} ms"]
    other = [f"P-R-T axes  {axes}", pick(_STATEMENTS), speed_gain, filters]
    return [patient, measures, other], f"{speed_gain}   {filters}   Device {pick(('A', 'B', 'C'))}-{hi}"


def _text_width(text: str, height_px: float, style: WorldStyle) -> float:
    """Width (px) of ``text`` at a capital height of ``height_px``."""
    return float(_rasterise(_font_path(style), text, max(1.0, height_px / _cap_per_em(_font_path(style))))[0].shape[1])


def _draw_header(img, plan: WorldPlan, style: WorldStyle) -> None:
    """Header columns under the top margin (shrunk to fit the usable width) and the footer line
    above the bottom margin."""
    ppm = plan.page_px_per_mm
    page_w, page_h = page_mm(style.page, style.landscape)
    ml, mt, mr, mb = style.margins_mm
    columns, footer = _header_lines(style)
    h = style.header_mm * ppm
    usable = (page_w - ml - mr) * ppm
    if style.header:
        gap = 4.0 * h
        widths = [max(_text_width(line, h, style) for line in lines) for lines in columns]
        fit = min(1.0, (usable - gap * (len(columns) - 1)) / sum(widths))
        hc, x = h * fit, ml * ppm
        for c, lines in enumerate(columns):
            rest = (sum(widths[c:]) + gap * (len(columns) - 1 - c)) * fit  # what must still fit
            x = max(x, min(ml * ppm + usable * (0.0, 0.36, 0.66)[c], ml * ppm + usable - rest))
            for i, line in enumerate(lines):
                _text(img, line, x, (mt + (i + 1) * 1.9 * style.header_mm) * ppm, hc, style)
            x += widths[c] * fit + gap * fit
    if style.footer:
        hf = h * min(1.0, usable / _text_width(footer, h, style))
        _text(img, footer, ml * ppm, (page_h - mb) * ppm - 0.3 * hf, hf, style)


# --- paper: everything but the traces --------------------------------------------------------------

def _polyline(img, xy_px: np.ndarray, style: WorldStyle) -> None:
    pts = np.round(np.asarray(xy_px, np.float64) * _ONE).astype(np.int32)
    cv2.polylines(img, [pts], False, style.trace_color, max(1, int(round(style.trace_width_px))), cv2.LINE_AA,
                  _SHIFT)


def calibration_points_px(plan: WorldPlan, baseline_y: float, style: WorldStyle) -> np.ndarray:
    """Pixel points of a row's calibration pulse (1 mV tall at the gain, 0.2 s wide), ``(n, 2)``."""
    ppm = plan.px_per_mm
    top = baseline_y - CAL_PULSE_MV * style.gain_mm_mv * ppm
    half = baseline_y - 0.5 * CAL_PULSE_MV * style.gain_mm_mv * ppm
    width = CAL_PULSE_S * style.speed_mm_s * ppm
    if style.calibration == "left_each_row":
        start, end = plan.block_px[0] + 1.0 * ppm, plan.trace_x0_px
        rise = plan.block_px[0] + CAL_LEAD_MM * ppm
    else:
        start, end = plan.trace_x1_px + 0.5 * ppm, plan.trace_x1_px + 9.0 * ppm
        rise = plan.trace_x1_px + CAL_LEAD_MM * ppm
    if style.calibration_shape == "stepped":
        mid = rise + width / 2
        pts = [(start, baseline_y), (rise, baseline_y), (rise, top), (mid, top), (mid, half), (rise + width, half),
               (rise + width, baseline_y), (end, baseline_y)]
    else:
        pts = [(start, baseline_y), (rise, baseline_y), (rise, top), (rise + width, top), (rise + width, baseline_y),
               (end, baseline_y)]
    return np.array(pts)


def _label_org(plan: WorldPlan, style: WorldStyle, x0: float, baseline: float) -> tuple[float, float, str]:
    ppm, h = plan.px_per_mm, style.label_mm * plan.px_per_mm
    pitch = plan.row_pitch_mm
    if style.label_pos == "above":
        return x0 + 1.0 * ppm, baseline - min(0.45 * pitch, 9.0) * ppm, "left"
    if style.label_pos == "below":
        return x0 + 1.0 * ppm, baseline + min(2.5, 0.1 * pitch) * ppm + h, "left"
    return x0 - 0.8 * ppm, baseline + 1.0 * ppm + h, "right"  # left


@functools.lru_cache(maxsize=4)  # a 300 dpi letter page is 25 MB
def _paper(style: WorldStyle) -> np.ndarray:
    """The page without traces, read-only ``(H, W, 3)`` uint8 RGB (copy before drawing)."""
    plan = plan_world_page(style)
    img = np.zeros((plan.height_px, plan.width_px, 3), np.uint8)
    cv2.add(img, (*style.paper_color, 0), dst=img)  # ~20x faster than img[:] = colour
    _draw_grid(img, plan, style)
    ppm = plan.px_per_mm
    for r, (baseline, cols) in enumerate(plan.rows):
        if style.calibration != "none":
            _polyline(img, calibration_points_px(plan, baseline, style), style)
        for c, (name, _, _, x0, _) in enumerate(cols):
            if style.separators and c > 0:
                _polyline(img, np.array([(x0, baseline - 2.5 * ppm), (x0, baseline + 2.5 * ppm)]), style)
            if style.label_pos != "none":
                x, y, align = _label_org(plan, style, x0, baseline)
                _text(img, name, x, y, style.label_mm * ppm, style, align)
    _draw_header(img, plan, style)
    img.setflags(write=False)
    return img


# --- the page --------------------------------------------------------------------------------------

def _columns(lead_names) -> list[int]:
    """Column of ``signal_mv`` of each of :data:`LEAD_NAMES` (case-insensitive)."""
    return [lead_index(lead_names, name) for name in LEAD_NAMES]


def render_world_page(signal_mv, sampling_rate: float, lead_names, style: WorldStyle) -> WorldPage:
    """Draws 10 s of a 12-lead record on a page of ``style``.

    Args:
        signal_mv: ``(samples, leads)`` mV at ``sampling_rate``; shorter than 10 s is drawn as a
            flat line past its end (NaN in ``truth_mv``), longer is cropped to its first 10 s.
            NaN samples are drawn at 0 mV.
        sampling_rate: Hz.
        lead_names: one name per column, containing the 12 standard leads (``AVR`` matches ``aVR``).
        style: the :class:`WorldStyle`.

    Returns:
        The :class:`WorldPage`.
    """
    sig = np.asarray(signal_mv, dtype=np.float64)
    if sig.ndim != 2 or sig.shape[0] == 0 or sig.shape[1] != len(lead_names):
        raise ValueError(f"signal_mv must be (samples, {len(lead_names)} leads), got shape {sig.shape}")
    fs = float(sampling_rate)
    if not fs > 0:
        raise ValueError(f"sampling_rate must be > 0, got {sampling_rate!r}")
    cols = _columns(lead_names)
    n = int(round(WORLD_S * fs))
    shown = np.full((n, 12), np.nan)
    m = min(n, len(sig))
    shown[:m] = sig[:m][:, cols]
    drawn = np.nan_to_num(shown, nan=0.0, posinf=0.0, neginf=0.0)
    truth = np.full((n, 12), np.nan, np.float32)
    plan = plan_world_page(style)
    img = _paper(style).copy()
    ppm = plan.px_per_mm
    px_per_s = style.speed_mm_s * ppm
    px_per_mv = style.gain_mm_mv * ppm
    panels = []
    for r, (baseline, row) in enumerate(plan.rows):
        for c, (name, start, stop, x0, x1) in enumerate(row):
            j = LEAD_NAMES.index(name)
            k0 = int(math.ceil(start * fs - 1e-9))
            k1 = min(n, int(math.ceil(stop * fs - 1e-9)))
            k = np.arange(k0, k1)
            xy = np.stack([x0 + (k / fs - start) * px_per_s, baseline - drawn[k0:k1, j] * px_per_mv], axis=1)
            _polyline(img, xy, style)
            truth[k0:k1, j] = shown[k0:k1, j]
            panels.append({"lead": name, "start_s": float(start), "stop_s": float(stop), "x0_px": float(x0),
                           "x1_px": float(x1), "baseline_y_px": float(baseline), "row": r, "col": c})
    return WorldPage(image=img, style=style, px_per_mm=float(ppm), truth_mv=truth, sampling_rate=fs,
                     lead_names=LEAD_NAMES, panels=panels, block_px=tuple(float(v) for v in plan.block_px))
