"""ECG paper: the printout style, the layouts and where every trace goes on the page.

Both renderers (:mod:`ecgtf.render.opencv_renderer`, :mod:`ecgtf.render.mpl_renderer`) draw
the same :class:`Page`, planned here in millimetres of paper: 25 mm/s, 10 mm/mV, a 1 mm grid
with a heavier line every 5 mm, a calibration pulse (1 mV for 0.2 s) at the left of each row
and the lead name at the top left of each trace. ``px_per_mm = dpi / 25.4``; the paper's
millimetre ``m`` is pixel ``m * px_per_mm`` (grid lines at ``round(m * px_per_mm)``).

Layouts (:data:`LAYOUTS`):

* ``3x4``: three rows of four 2.5 s columns (I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6)
  over the first 10 s;
* ``3x4_rhythm``: ``3x4`` with a 10 s lead II rhythm strip under it;
* ``stack``: one row per lead over the whole record given;
* ``lead``: one image per lead over the whole record given (the sequence models' input).

The standard layouts (``3x4``, ``3x4_rhythm``) show 10 s: a shorter record is padded with a
flat line, a longer one cropped to its first 10 s.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

MM_PER_INCH = 25.4
#: Seconds shown by the standard layouts.
STANDARD_S = 10.0
#: Paper left of the traces, holding the calibration pulse (mm).
LEFT_MM = 10.0
RIGHT_MM = 5.0
TOP_MM = 5.0
BOTTOM_MM = 5.0
#: The calibration pulse (mm from the page's left edge): flat, up 1 mV for 0.2 s, down, flat.
CAL_START_MM = 2.0
CAL_RISE_MM = 3.0
CAL_PULSE_MV = 1.0
CAL_PULSE_S = 0.2

#: (minor, major) grid colours (RGB) of each grid scheme.
GRID_COLORS = {
    "red": ((250, 205, 205), (240, 140, 140)),
    "grey": ((225, 225, 225), (175, 175, 175)),
    "none": (None, None),
}

STANDARD_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))


@dataclasses.dataclass(frozen=True)
class PaperStyle:
    """How the paper and the trace look.

    Attributes:
        dpi: pixels per inch (``px_per_mm = dpi / 25.4``; 100 dpi is 3.94 px/mm).
        speed_mm_s: paper speed in mm/s.
        gain_mm_mv: gain in mm/mV.
        grid: ``red`` (pink/red), ``grey`` or ``none``.
        line_width_px: trace width in pixels.
        trace_color: RGB of the trace, the calibration pulse and the labels.
        minor_color, major_color: RGB of the 1 mm and 5 mm grid lines; None takes the
            :data:`GRID_COLORS` of ``grid``.
        paper_color: RGB of the paper.
        labels: write the lead names.
        calibration: draw the calibration pulse at the left of each row.
    """

    dpi: float = 100.0
    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    grid: str = "red"
    line_width_px: int = 1
    trace_color: tuple = (0, 0, 0)
    minor_color: tuple | None = None
    major_color: tuple | None = None
    paper_color: tuple = (255, 255, 255)
    labels: bool = True
    calibration: bool = True

    def __post_init__(self):
        if self.grid not in GRID_COLORS:
            raise ValueError(f"grid must be one of {', '.join(GRID_COLORS)}, got {self.grid!r}")
        for name in ("dpi", "speed_mm_s", "gain_mm_mv"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if int(self.line_width_px) < 1:
            raise ValueError(f"line_width_px must be >= 1, got {self.line_width_px!r}")
        for name in ("trace_color", "minor_color", "major_color", "paper_color"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(int(c) for c in value))

    @property
    def px_per_mm(self) -> float:
        return float(self.dpi) / MM_PER_INCH

    @property
    def grid_colors(self) -> tuple:
        """``(minor, major)`` RGB tuples, or ``(None, None)`` without a grid."""
        minor, major = GRID_COLORS[self.grid]
        return (self.minor_color or minor, self.major_color or major) if self.grid != "none" else (None, None)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where the leads go.

    Attributes:
        name: key of :data:`LAYOUTS`.
        cells: rows of lead names, each row split into equal columns over
            :data:`STANDARD_S`; None puts every lead of the record on its own row over the
            whole record.
        rhythm_lead: a lead drawn over :data:`STANDARD_S` on an extra row under ``cells``.
        row_mm: height of one row (mm).
        baseline_mm: the 0 mV line below the row's top (mm); a multiple of 5 falls on a major
            grid line.
        per_lead: one image per lead (:func:`render_leads`) instead of one page.
    """

    name: str
    cells: tuple | None
    rhythm_lead: str | None = None
    row_mm: float = 40.0
    baseline_mm: float = 25.0
    per_lead: bool = False

    @property
    def standard(self) -> bool:
        """True when the layout shows a fixed :data:`STANDARD_S` (padded or cropped)."""
        return self.cells is not None


LAYOUTS = {
    "3x4": Layout("3x4", STANDARD_3X4),
    "3x4_rhythm": Layout("3x4_rhythm", STANDARD_3X4, rhythm_lead="II"),
    "stack": Layout("stack", None, row_mm=25.0, baseline_mm=15.0),
    "lead": Layout("lead", None, per_lead=True),
}


def get_layout(name: str) -> Layout:
    """The :class:`Layout` called ``name``; unknown names list the valid ones."""
    if name not in LAYOUTS:
        raise KeyError(f"unknown layout {name!r}; valid layouts: {', '.join(LAYOUTS)}")
    return LAYOUTS[name]


@dataclasses.dataclass(frozen=True)
class Trace:
    """One stretch of one lead on the page.

    Attributes:
        lead: column of the signal array.
        label: the name written beside it.
        start_s, stop_s: the stretch of the record (s).
        x_mm: page position of ``start_s`` (mm from the left edge).
        baseline_mm: page position of 0 mV (mm from the top edge).
    """

    lead: int
    label: str
    start_s: float
    stop_s: float
    x_mm: float
    baseline_mm: float


@dataclasses.dataclass(frozen=True)
class Page:
    """A planned page: its size and what goes where.

    Attributes:
        width_mm, height_mm: paper size (mm).
        width_px, height_px: image size (pixels).
        px_per_mm: pixels per millimetre.
        traces: the lead stretches.
        rows_mm: baseline of each row (mm from the top), where the calibration pulses go.
    """

    width_mm: float
    height_mm: float
    width_px: int
    height_px: int
    px_per_mm: float
    traces: tuple
    rows_mm: tuple


def lead_index(lead_names, name: str) -> int:
    """Column of lead ``name`` in ``lead_names`` (case-insensitive: ``AVR`` is ``aVR``)."""
    wanted = name.lower()
    for i, lead in enumerate(lead_names):
        if str(lead).lower() == wanted:
            return i
    raise ValueError(f"lead {name} is not among the record's leads ({', '.join(map(str, lead_names))})")


_CANONICAL = {name.lower(): name for row in STANDARD_3X4 for name in row}


def display_name(name) -> str:
    """The printed label of a lead: the standard spelling of the 12 standard leads (PTB-XL's
    ``AVR`` prints as ``aVR``), any other name as given."""
    return _CANONICAL.get(str(name).lower(), str(name))


def page_size(width_mm: float, height_mm: float, style: PaperStyle) -> tuple[int, int]:
    """``(width_px, height_px)`` of paper ``width_mm`` by ``height_mm`` at the style's dpi."""
    return int(math.ceil(width_mm * style.px_per_mm - 1e-6)), int(math.ceil(height_mm * style.px_per_mm - 1e-6))


def plan_page(layout: Layout | str, lead_names, duration_s: float, style: PaperStyle = PaperStyle()) -> Page:
    """Plans a page of ``layout`` for a record of ``duration_s`` seconds with ``lead_names``.

    Standard layouts always show :data:`STANDARD_S`; the others ``duration_s``.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    traces, rows = [], []
    if layout.standard:
        shown_s = STANDARD_S
        for r, row in enumerate(layout.cells):
            baseline = TOP_MM + r * layout.row_mm + layout.baseline_mm
            rows.append(baseline)
            col_s = STANDARD_S / len(row)
            for c, name in enumerate(row):
                traces.append(Trace(lead_index(lead_names, name), name, c * col_s, (c + 1) * col_s,
                                    LEFT_MM + c * col_s * style.speed_mm_s, baseline))
        if layout.rhythm_lead:
            baseline = TOP_MM + len(layout.cells) * layout.row_mm + layout.baseline_mm
            rows.append(baseline)
            traces.append(Trace(lead_index(lead_names, layout.rhythm_lead), layout.rhythm_lead, 0.0, STANDARD_S,
                                LEFT_MM, baseline))
    else:
        shown_s = float(duration_s)
        if not shown_s > 0:
            raise ValueError(f"a record of {duration_s} s has nothing to draw")
        for i, name in enumerate(lead_names):
            baseline = TOP_MM + i * layout.row_mm + layout.baseline_mm
            rows.append(baseline)
            traces.append(Trace(i, display_name(name), 0.0, shown_s, LEFT_MM, baseline))
    width_mm = LEFT_MM + shown_s * style.speed_mm_s + RIGHT_MM
    height_mm = TOP_MM + len(rows) * layout.row_mm + BOTTOM_MM
    width_px, height_px = page_size(width_mm, height_mm, style)
    return Page(width_mm, height_mm, width_px, height_px, style.px_per_mm, tuple(traces), tuple(rows))


def lead_page(duration_s: float, style: PaperStyle = PaperStyle(), label: str = "") -> Page:
    """The page of one lead of the ``lead`` layout (the same size for every lead)."""
    return plan_page(LAYOUTS["lead"], [label], duration_s, style)


def dpi_for_width(layout: Layout | str, width_px: int, duration_s: float = STANDARD_S,
                  style: PaperStyle = PaperStyle()) -> float:
    """The dpi at which a page of ``layout`` is ``width_px`` pixels wide (``--width-px``)."""
    layout = get_layout(layout) if isinstance(layout, str) else layout
    shown_s = STANDARD_S if layout.standard else float(duration_s)
    width_mm = LEFT_MM + shown_s * style.speed_mm_s + RIGHT_MM
    return float(width_px) * MM_PER_INCH / width_mm


def trace_points(signal_mv: np.ndarray, sampling_rate: float, trace: Trace, style: PaperStyle) -> np.ndarray:
    """Page coordinates (mm) of one trace's samples, ``(n, 2)`` as ``(x, y)``.

    Samples from ``start_s`` up to and including ``stop_s`` (the sample at the boundary is
    drawn by both neighbouring columns); samples past the record's end are a flat 0 mV line.
    """
    first = int(round(trace.start_s * sampling_rate))
    last = int(round(trace.stop_s * sampling_rate))
    idx = np.arange(first, last + 1)
    column = np.asarray(signal_mv[:, trace.lead], dtype=np.float64)
    values = np.zeros(len(idx))
    inside = idx < len(column)
    values[inside] = column[idx[inside]]
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    x = trace.x_mm + (idx / sampling_rate - trace.start_s) * style.speed_mm_s
    y = trace.baseline_mm - values * style.gain_mm_mv
    return np.stack([x, y], axis=1)


def calibration_points(baseline_mm: float, style: PaperStyle) -> np.ndarray:
    """Page coordinates (mm) of a calibration pulse left of a row at ``baseline_mm``, ``(6, 2)``."""
    top = baseline_mm - CAL_PULSE_MV * style.gain_mm_mv
    fall = CAL_RISE_MM + CAL_PULSE_S * style.speed_mm_s
    return np.array([[CAL_START_MM, baseline_mm], [CAL_RISE_MM, baseline_mm], [CAL_RISE_MM, top],
                     [fall, top], [fall, baseline_mm], [LEFT_MM, baseline_mm]])


def grid_lines_px(length_mm: float, px_per_mm: float, every_mm: int) -> np.ndarray:
    """Pixel positions of the grid lines every ``every_mm`` along ``length_mm`` of paper."""
    return np.round(np.arange(0, int(math.floor(length_mm)) + 1, every_mm) * px_per_mm).astype(int)


def as_signal(signal_mv, n_leads: int | None = None) -> np.ndarray:
    """``signal_mv`` as a float ``(samples, leads)`` array; a 1-D signal is one lead."""
    arr = np.asarray(signal_mv, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"signal_mv must be (samples, leads) with samples > 0, got shape {arr.shape}")
    if n_leads is not None and arr.shape[1] != n_leads:
        raise ValueError(f"the signal has {arr.shape[1]} leads but {n_leads} lead names were given")
    return arr
