"""Printout styles for :mod:`ecgtf.render.world`: the :class:`WorldStyle` of one page, the style
families, :func:`random_style` and the page geometry (:func:`plan_world_page`).

Units: page sizes and margins in millimetres of the page (``mm``); the ECG block is laid out in
millimetres of ECG grid, which equal page millimetres when the block is printed at true scale
and are smaller when it is shrunk to fit (a PDF printed "fit to page"). ``px_per_mm`` is pixels
per millimetre of ECG grid.

A family fixes a region of look-space (grid colour and weight, dotted or solid, trace weight,
font, label position, calibration); :func:`random_style` draws the rest (dpi, page, margins,
layout, scale, placement, widths within the family's range, header text). Holding one family out
of training is therefore a look the reader has never seen.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

MM_PER_INCH = 25.4
#: Seconds every layout shows.
WORLD_S = 10.0
#: The 12 leads, in the order of :attr:`WorldPage.truth_mv` columns.
LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
#: Layout name -> (grid rows of lead names, each row split into equal columns over 10 s;
#: rhythm leads drawn over the whole 10 s on extra rows under the grid).
LAYOUTS = {
    "3x4": (_3X4, ()),
    "3x4_1r": (_3X4, ("II",)),
    "3x4_3r": (_3X4, ("II", "V1", "V5")),
    "6x2": (tuple(zip(("I", "II", "III", "aVR", "aVL", "aVF"), ("V1", "V2", "V3", "V4", "V5", "V6"))), ()),
    "12x1": (tuple((name,) for name in LEAD_NAMES), ()),
}
LAYOUT_NAMES = tuple(LAYOUTS)

#: Page name -> (long side, short side) in mm. ``strip``: 112 mm thermal roll paper (the width
#: of 3-channel carts' rolls) cut to 290 mm.
PAGES = {"letter": (279.4, 215.9), "a4": (297.0, 210.0), "strip": (290.0, 112.0)}
GRIDS = ("red", "pink", "orange", "green", "blue", "grey", "none")
LABEL_POSITIONS = ("above", "below", "left", "none")
CALIBRATIONS = ("left_each_row", "right", "none")
CALIBRATION_SHAPES = ("square", "stepped")
GRID_EXTENTS = ("page", "block")
#: Font families (TrueType fonts shipped with matplotlib, drawn by :mod:`ecgtf.render.world`):
#: DejaVu Sans / Serif / Sans Mono, STIX (Times-like), Computer Modern roman, sans and typewriter.
FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral", "cmr10", "cmss10", "cmtt10")

#: Room left of the traces for a calibration pulse or lead labels, else a thin edge (ECG mm).
SIDE_ROOM_MM = 10.0
SIDE_EDGE_MM = 5.0
#: The calibration pulse: 1 mV tall, 0.2 s wide, starting this far into its 10 mm room (ECG mm).
CAL_LEAD_MM = 2.5
CAL_PULSE_MV = 1.0
CAL_PULSE_S = 0.2


@dataclasses.dataclass(frozen=True)
class WorldStyle:
    """How one printout looks. Every field is a plain value (``dataclasses.asdict`` is JSON-able;
    :meth:`from_dict` reads it back).

    Attributes:
        family: the :data:`STYLE_FAMILIES` member it was drawn from (free text otherwise).
        layout: a key of :data:`LAYOUTS`: ``3x4``, ``3x4_1r`` (+ lead II rhythm strip),
            ``3x4_3r`` (+ II, V1, V5 rhythm strips), ``6x2`` or ``12x1``.
        page: a key of :data:`PAGES`: ``letter``, ``a4`` or ``strip``.
        landscape: long side horizontal.
        dpi: pixels per inch of page (100..300; the image is page size x dpi).
        margins_mm: (left, top, right, bottom) page margins (mm).
        block_fraction: width of the ECG block over the usable page width (0.3..1); 1 mm of ECG
            grid is ``block_fraction * usable_width / natural_block_width`` page mm. The block is
            shrunk further when its rows would not fit the page's height.
        block_anchor: (x, y) placement of the block in the free usable space (0 left/top, 1
            right/bottom).
        grid: colour scheme name (``none``: plain paper).
        minor_color, major_color: RGB (0-255) of the 1 mm and 5 mm lines (None without grid).
        minor_width_px, major_width_px: line widths (px; below 1 px draws a fainter line). For a
            dotted grid, the dot size at the 1 mm crossings and of the dotted 5 mm lines.
        dotted: dots at the 1 mm crossings and dotted 5 mm lines instead of solid lines.
        grid_extent: ``page`` (grid over the whole page) or ``block`` (over the ECG block only).
        grid_offset_mm: (x, y) shift of the grid from the block's origin (ECG mm); (0, 0) puts the
            baselines and trace starts on 5 mm lines, as ECG carts do.
        trace_color: RGB of the traces, calibration pulses and separators.
        trace_width_px: trace width (px, drawn as ``max(1, round(w))``, anti-aliased).
        font: a font family of :data:`FONTS`.
        font_italic, text_bold: font variants (where the family has them).
        text_color: RGB of all text.
        label_pos: lead labels ``above`` (above-left of the trace start), ``below`` (below-left),
            ``left`` (left of the trace start, below the baseline) or ``none``.
        label_mm: letter height of lead labels (ECG mm).
        calibration: pulse at the start of each row (``left_each_row``), at its end (``right``)
            or ``none``.
        calibration_shape: ``square`` (1 mV for 0.2 s) or ``stepped`` (1 mV for 0.1 s, 0.5 mV
            for 0.1 s).
        separators: short vertical marks (5 mm) at the column boundaries.
        header: patient-like header text (name, ID, age, sex, date, intervals, speed, gain).
        footer: speed, gain and filter text under the block.
        header_mm: letter height of header and footer text (page mm).
        text_seed: seed of the header's made-up values.
        speed_mm_s: paper speed (mm/s of ECG grid).
        gain_mm_mv: gain (mm/mV of ECG grid).
        paper_color: RGB of the paper.
    """

    family: str = "classic_red"
    layout: str = "3x4_1r"
    page: str = "letter"
    landscape: bool = True
    dpi: float = 150.0
    margins_mm: tuple = (10.0, 10.0, 10.0, 10.0)
    block_fraction: float = 1.0
    block_anchor: tuple = (0.5, 0.0)
    grid: str = "red"
    minor_color: tuple | None = (250, 200, 200)
    major_color: tuple | None = (235, 125, 125)
    minor_width_px: float = 1.0
    major_width_px: float = 1.5
    dotted: bool = False
    grid_extent: str = "page"
    grid_offset_mm: tuple = (0.0, 0.0)
    trace_color: tuple = (0, 0, 0)
    trace_width_px: float = 1.5
    font: str = "DejaVu Sans"
    font_italic: bool = False
    text_bold: bool = False
    text_color: tuple = (0, 0, 0)
    label_pos: str = "above"
    label_mm: float = 3.0
    calibration: str = "left_each_row"
    calibration_shape: str = "square"
    separators: bool = False
    header: bool = True
    footer: bool = False
    header_mm: float = 2.8
    text_seed: int = 0
    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    paper_color: tuple = (255, 255, 255)

    def __post_init__(self):
        checks = (("layout", LAYOUTS), ("page", PAGES), ("grid", GRIDS), ("label_pos", LABEL_POSITIONS),
                  ("calibration", CALIBRATIONS), ("calibration_shape", CALIBRATION_SHAPES),
                  ("grid_extent", GRID_EXTENTS), ("font", FONTS))
        for name, valid in checks:
            if getattr(self, name) not in valid:
                raise ValueError(f"{name} must be one of {', '.join(valid)}, got {getattr(self, name)!r}")
        for name in ("dpi", "speed_mm_s", "gain_mm_mv", "block_fraction", "label_mm", "header_mm"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("trace_color", "text_color", "paper_color", "minor_color", "major_color"):
            value = getattr(self, name)
            if value is not None:
                if len(value) != 3:
                    raise ValueError(f"{name} must be RGB, got {value!r}")
                object.__setattr__(self, name, tuple(int(c) for c in value))
        for name, n in (("margins_mm", 4), ("block_anchor", 2), ("grid_offset_mm", 2)):
            value = tuple(float(v) for v in getattr(self, name))
            if len(value) != n:
                raise ValueError(f"{name} must have {n} values, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        if self.grid != "none" and (self.minor_color is None or self.major_color is None):
            raise ValueError(f"grid {self.grid!r} needs minor_color and major_color")
        for name in ("dpi", "block_fraction", "minor_width_px", "major_width_px", "trace_width_px", "label_mm",
                     "header_mm", "speed_mm_s", "gain_mm_mv"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "text_seed", int(self.text_seed))

    @classmethod
    def from_dict(cls, d: dict) -> "WorldStyle":
        """The style ``dataclasses.asdict`` gave (lists from JSON become tuples)."""
        return cls(**d)

    @property
    def grid_aligned(self) -> bool:
        """True when baselines and trace starts lie on 5 mm grid lines."""
        return self.grid != "none" and all(abs(v) < 1e-9 for v in self.grid_offset_mm)


# --- families --------------------------------------------------------------------------------------

def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def _rgb(rng, *ranges):
    return tuple(int(rng.integers(lo, hi + 1)) for lo, hi in ranges)


def _pick(rng, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def _classic_red(rng):
    r = _u(rng, 0, 1)
    return dict(grid="red", minor_color=_rgb(rng, (248, 255), (185, 215), (185, 215)),
                major_color=_rgb(rng, (225, 245), (95, 140), (95, 140)),
                minor_mm=_u(rng, 0.07, 0.12), major_mm=_u(rng, 0.18, 0.28), dotted=False,
                trace_color=_rgb(rng, (0, 25), (0, 25), (0, 25)), trace_mm=_u(rng, 0.22, 0.32),
                font="DejaVu Sans", font_italic=False, text_bold=r < 0.3, label_pos="above",
                calibration="left_each_row", calibration_shape="square", separators=rng.random() < 0.5,
                paper_color=_rgb(rng, (250, 255), (250, 255), (248, 255)), pages=("letter", "a4"))


def _pink_fine(rng):
    return dict(grid="pink", minor_color=_rgb(rng, (250, 255), (222, 238), (228, 242)),
                major_color=_rgb(rng, (240, 252), (170, 200), (185, 215)),
                minor_mm=_u(rng, 0.04, 0.07), major_mm=_u(rng, 0.09, 0.15), dotted=False,
                trace_color=_rgb(rng, (10, 40), (10, 40), (55, 100)), trace_mm=_u(rng, 0.14, 0.22),
                font="DejaVu Sans Mono", font_italic=False, text_bold=False, label_pos="left",
                calibration="left_each_row", calibration_shape="stepped", separators=False,
                paper_color=_rgb(rng, (250, 255), (248, 253), (240, 250)), pages=("letter", "a4"))


def _green_mono(rng):
    return dict(grid="green", minor_color=_rgb(rng, (195, 220), (232, 246), (195, 220)),
                major_color=_rgb(rng, (90, 140), (180, 210), (95, 145)),
                minor_mm=_u(rng, 0.07, 0.11), major_mm=_u(rng, 0.17, 0.26), dotted=False,
                trace_color=_rgb(rng, (0, 25), (25, 60), (0, 30)), trace_mm=_u(rng, 0.2, 0.3),
                font="cmss10", font_italic=False, text_bold=False, label_pos="below",
                calibration="right", calibration_shape="square", separators=True,
                paper_color=_rgb(rng, (250, 255), (252, 255), (250, 255)), pages=("a4", "letter"))


def _blue_dotted(rng):
    return dict(grid="blue", minor_color=_rgb(rng, (120, 165), (155, 195), (220, 245)),
                major_color=_rgb(rng, (50, 95), (95, 145), (190, 230)),
                minor_mm=_u(rng, 0.12, 0.18), major_mm=_u(rng, 0.12, 0.18), dotted=True,
                trace_color=_rgb(rng, (0, 20), (0, 20), (0, 30)), trace_mm=_u(rng, 0.22, 0.3),
                font="STIXGeneral", font_italic=False, text_bold=False, label_pos="above",
                calibration="left_each_row", calibration_shape="square", separators=True,
                paper_color=_rgb(rng, (252, 255), (252, 255), (252, 255)), pages=("a4", "letter"))


def _grey_scan(rng):
    tint = int(rng.integers(0, 12))
    base = int(rng.integers(228, 246))
    return dict(grid="grey", minor_color=(lambda g: (g, g, g))(int(rng.integers(195, 218))),
                major_color=(lambda g: (g, g, g))(int(rng.integers(135, 170))),
                minor_mm=_u(rng, 0.08, 0.13), major_mm=_u(rng, 0.2, 0.32), dotted=False,
                trace_color=(lambda g: (g, g, g))(int(rng.integers(25, 65))), trace_mm=_u(rng, 0.32, 0.48),
                font="cmtt10", font_italic=False, text_bold=False, label_pos="left",
                calibration="left_each_row", calibration_shape=_pick(rng, CALIBRATION_SHAPES),
                separators=rng.random() < 0.3, paper_color=(base, base - tint // 2, base - tint),
                pages=("letter", "a4"), offset_p=0.5,
                gain=_pick(rng, (10.0, 5.0, 20.0), p=(0.6, 0.2, 0.2)))


def _no_grid(rng):
    return dict(grid="none", minor_color=None, major_color=None, minor_mm=0.0, major_mm=0.0, dotted=False,
                trace_color=_pick(rng, ((0, 0, 0), (0, 0, 120), (20, 40, 110))), trace_mm=_u(rng, 0.2, 0.35),
                font="DejaVu Serif", font_italic=False, text_bold=False, label_pos="above",
                calibration=_pick(rng, ("none", "right")), calibration_shape="square", separators=True,
                paper_color=(255, 255, 255), pages=("letter", "a4"))


def _orange_wide(rng):
    return dict(grid="orange", minor_color=_rgb(rng, (250, 255), (212, 232), (170, 200)),
                major_color=_rgb(rng, (235, 252), (135, 175), (60, 110)),
                minor_mm=_u(rng, 0.09, 0.14), major_mm=_u(rng, 0.3, 0.45), dotted=False,
                trace_color=_rgb(rng, (15, 45), (15, 45), (15, 45)), trace_mm=_u(rng, 0.35, 0.5),
                font="DejaVu Sans", font_italic=True, text_bold=True, label_pos="below",
                calibration="left_each_row", calibration_shape="square", separators=rng.random() < 0.5,
                paper_color=_rgb(rng, (250, 255), (246, 252), (228, 242)), pages=("strip", "a4", "letter"))


_FAMILIES = {"classic_red": _classic_red, "pink_fine": _pink_fine, "green_mono": _green_mono,
             "blue_dotted": _blue_dotted, "grey_scan": _grey_scan, "no_grid": _no_grid,
             "orange_wide": _orange_wide}
#: Style families, each a region of colour / weight / font / label-position space.
STYLE_FAMILIES = tuple(_FAMILIES)

#: Layout odds of :func:`random_style` (3x4 with a rhythm strip is the most common printout).
_LAYOUT_P = {"3x4": 0.2, "3x4_1r": 0.35, "3x4_3r": 0.15, "6x2": 0.15, "12x1": 0.15}
#: Layouts a 112 mm strip has room for.
_STRIP_LAYOUTS = ("3x4", "3x4_1r")


def random_style(rng: np.random.Generator, family: str | None = None, layout: str | None = None) -> WorldStyle:
    """A random :class:`WorldStyle` of ``family`` (random when None) and ``layout`` (random when
    None): the family fixes the look, the rest (dpi, page, margins, scale, widths...) is drawn here."""
    rng = np.random.default_rng(rng)
    if family is None:
        family = STYLE_FAMILIES[int(rng.integers(len(STYLE_FAMILIES)))]
    if family not in _FAMILIES:
        raise ValueError(f"unknown style family {family!r}; valid: {', '.join(STYLE_FAMILIES)}")
    if layout is None:
        layout = _pick(rng, tuple(_LAYOUT_P), p=tuple(_LAYOUT_P.values()))
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUT_NAMES)}")
    f = _FAMILIES[family](rng)
    pages = [p for p in f["pages"] if p != "strip" or layout in _STRIP_LAYOUTS]
    page = pages[0] if rng.random() < 0.5 else pages[int(rng.integers(len(pages)))]  # mostly its usual paper
    landscape = page == "strip" or layout not in ("6x2", "12x1", "3x4_3r") or rng.random() < 0.8
    dpi = float(_pick(rng, (100.0, 150.0, 200.0, 300.0))) if rng.random() < 0.5 else _u(rng, 100, 300)
    ppm_page = dpi / MM_PER_INCH
    small = page == "strip"
    margins = tuple(round(_u(rng, 2, 6) if small else _u(rng, 4, 15), 1) for _ in range(4))
    header = bool(rng.random() < (0.5 if small else 0.9))
    calibration = f["calibration"]
    label_pos = f["label_pos"] if rng.random() < 0.95 else "none"
    w_mm, _ = page_mm(page, landscape)
    usable = w_mm - margins[0] - margins[2]
    natural = natural_block_width_mm(calibration, label_pos, 25.0)
    if natural <= usable and rng.random() < 0.6:
        fraction = natural / usable  # true scale: 1 mm of ECG grid is 1 mm of paper
    else:
        fraction = _u(rng, 0.75, 1.0) if rng.random() < 0.8 else _u(rng, 0.5, 0.75)
    gain = float(f.get("gain", 10.0))
    if gain > 10 and (page == "strip" or layout not in ("3x4", "3x4_1r")):
        gain = 10.0  # 20 mm/mV needs tall rows: only on 3 or 4 rows of a full page
    offset_p = f.get("offset_p", 0.1)
    offset = (0.0, 0.0) if f["grid"] == "none" or rng.random() >= offset_p else \
        (round(_u(rng, 0, 5), 2), round(_u(rng, 0, 5), 2))
    return WorldStyle(
        family=family, layout=layout, page=page, landscape=bool(landscape), dpi=round(dpi, 2),
        margins_mm=margins, block_fraction=round(min(1.0, fraction), 4),
        block_anchor=(round(_u(rng, 0, 1), 3) if rng.random() < 0.5 else 0.5, round(_u(rng, 0, 1), 3)),
        grid=f["grid"], minor_color=f["minor_color"], major_color=f["major_color"],
        minor_width_px=round(max(0.6, f["minor_mm"] * ppm_page), 3) if f["grid"] != "none" else 0.0,
        major_width_px=round(max(1.0, f["major_mm"] * ppm_page), 3) if f["grid"] != "none" else 0.0,
        dotted=f["dotted"], grid_extent="page" if rng.random() < 0.6 else "block", grid_offset_mm=offset,
        trace_color=f["trace_color"], trace_width_px=round(max(1.0, f["trace_mm"] * ppm_page), 3),
        font=f["font"], font_italic=f["font_italic"], text_bold=f["text_bold"],
        text_color=tuple(int(c) for c in np.minimum(f["trace_color"], 60)),
        label_pos=label_pos, label_mm=round(_u(rng, 2.4, 3.6), 2), calibration=calibration,
        calibration_shape=f["calibration_shape"], separators=bool(f["separators"]), header=header,
        footer=bool(rng.random() < 0.5), header_mm=round(_u(rng, 2.2, 3.2) if not small else _u(rng, 1.8, 2.4), 2),
        text_seed=int(rng.integers(0, 2 ** 31 - 1)), speed_mm_s=25.0, gain_mm_mv=gain,
        paper_color=f["paper_color"],
    )


# --- geometry --------------------------------------------------------------------------------------

def page_mm(page: str, landscape: bool) -> tuple[float, float]:
    """(width, height) of the page (mm)."""
    long, short = PAGES[page]
    return (long, short) if landscape else (short, long)


def side_room_mm(calibration: str, label_pos: str) -> tuple[float, float]:
    """(left, right) room beside the 10 s of traces (ECG mm)."""
    left = SIDE_ROOM_MM if calibration == "left_each_row" or label_pos == "left" else SIDE_EDGE_MM
    right = SIDE_ROOM_MM if calibration == "right" else SIDE_EDGE_MM
    return left, right


def natural_block_width_mm(calibration: str, label_pos: str, speed_mm_s: float) -> float:
    """Width of the ECG block (ECG mm): side rooms and 10 s of traces."""
    left, right = side_room_mm(calibration, label_pos)
    return left + WORLD_S * speed_mm_s + right


def header_height_mm(style: WorldStyle) -> float:
    """Page height the header takes (mm): its lines and a gap under them."""
    return 4 * 1.9 * style.header_mm + 2.0 if style.header else 0.0


def footer_height_mm(style: WorldStyle) -> float:
    """Page height the footer takes (mm)."""
    return 2.4 * style.header_mm if style.footer else 0.0


@dataclasses.dataclass(frozen=True)
class WorldPlan:
    """Where everything goes on a page (pixels; image x right, y down, pixel centres at integers).

    Attributes:
        width_px, height_px: image size.
        px_per_mm: pixels per mm of ECG grid.
        page_px_per_mm: pixels per mm of page (``dpi / 25.4``).
        block_px: (x0, y0, x1, y1) of the ECG block.
        grid_origin_px: (x, y) of one 5 mm grid crossing.
        rows: per row, ``(baseline_y_px, [(lead, start_s, stop_s, x0_px, x1_px), ...])``.
        trace_x0_px, trace_x1_px: x of 0 s and 10 s.
        row_pitch_mm: distance between baselines (ECG mm).
    """

    width_px: int
    height_px: int
    px_per_mm: float
    page_px_per_mm: float
    block_px: tuple
    grid_origin_px: tuple
    rows: tuple
    trace_x0_px: float
    trace_x1_px: float
    row_pitch_mm: float


def row_pitch_limits_mm(gain_mm_mv: float) -> tuple[float, float]:
    """(smallest, largest) distance between baselines (ECG mm): 1.5 mV to 4 mV at the gain."""
    return max(10.0, 5.0 * math.ceil(1.5 * gain_mm_mv / 5.0 - 1e-9)), max(25.0, 4.0 * gain_mm_mv)


def plan_world_page(style: WorldStyle) -> WorldPlan:
    """The geometry of a page of ``style``.

    The block is ``block_fraction`` of the usable width; rows are spaced as far apart as the
    usable height allows (a multiple of 5 mm, at most 4 mV at the gain); when even the smallest
    spacing (1.5 mV) does not fit, the block is shrunk. Baselines lie at a multiple of 5 mm
    below their row's top, a little below its middle (QRS complexes point up more than down).
    """
    grid_rows, rhythm = LAYOUTS[style.layout]
    n_rows = len(grid_rows) + len(rhythm)
    page_w, page_h = page_mm(style.page, style.landscape)
    ml, mt, mr, mb = style.margins_mm
    usable_w = page_w - ml - mr
    avail_h = page_h - mt - mb - header_height_mm(style) - footer_height_mm(style)
    if usable_w <= 10 or avail_h <= 10:
        raise ValueError(f"margins {style.margins_mm} leave no room on a {page_w} x {page_h} mm page")
    left, right = side_room_mm(style.calibration, style.label_pos)
    natural_w = left + WORLD_S * style.speed_mm_s + right
    scale = min(1.0, style.block_fraction) * usable_w / natural_w  # page mm per ECG mm
    p_min, p_max = row_pitch_limits_mm(style.gain_mm_mv)
    pitch = 5.0 * math.floor(min(p_max, avail_h / scale / n_rows) / 5.0 + 1e-9)
    if pitch < p_min:
        pitch = p_min
        scale = min(scale, avail_h / (n_rows * pitch))
    block_w, block_h = natural_w * scale, n_rows * pitch * scale  # page mm
    ax, ay = (min(max(a, 0.0), 1.0) for a in style.block_anchor)
    bx = ml + ax * (usable_w - block_w)
    by = mt + header_height_mm(style) + ay * (avail_h - block_h)
    page_ppm = style.dpi / MM_PER_INCH
    ppm = page_ppm * scale
    x0, y0 = bx * page_ppm, by * page_ppm
    base_off = min(max(5.0 * round(0.6 * pitch / 5.0), 5.0), pitch - 5.0) if pitch >= 10 else pitch / 2
    t0 = x0 + left * ppm
    speed = style.speed_mm_s * ppm  # px/s
    rows = []
    for r, names in enumerate(grid_rows):
        col_s = WORLD_S / len(names)
        cols = tuple((name, c * col_s, (c + 1) * col_s, t0 + c * col_s * speed, t0 + (c + 1) * col_s * speed)
                     for c, name in enumerate(names))
        rows.append((y0 + (r * pitch + base_off) * ppm, cols))
    for k, name in enumerate(rhythm):
        r = len(grid_rows) + k
        rows.append((y0 + (r * pitch + base_off) * ppm, ((name, 0.0, WORLD_S, t0, t0 + WORLD_S * speed),)))
    ox, oy = style.grid_offset_mm if style.grid != "none" else (0.0, 0.0)
    return WorldPlan(
        width_px=int(math.ceil(page_w * page_ppm - 1e-6)), height_px=int(math.ceil(page_h * page_ppm - 1e-6)),
        px_per_mm=ppm, page_px_per_mm=page_ppm, block_px=(x0, y0, x0 + block_w * page_ppm, y0 + block_h * page_ppm),
        grid_origin_px=(x0 + ox * ppm, y0 + oy * ppm), rows=tuple(rows), trace_x0_px=t0,
        trace_x1_px=t0 + WORLD_S * speed, row_pitch_mm=pitch)
