"""The reference renderer: the same pages as :mod:`ecgtf.render.opencv_renderer`, drawn with
matplotlib (for figures, and as the speed benchmark's reference).

Uses a bare :class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot state), so it is
safe in worker processes and leaves the caller's figures alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ecgtf.render.opencv_renderer import LABEL_ABOVE_MM, LABEL_MM
from ecgtf.render.paper import (LAYOUTS, MM_PER_INCH, Page, PaperStyle, as_signal, calibration_points, display_name,
                                get_layout, plan_page, trace_points)

POINTS_PER_INCH = 72.0


def _rgb(color) -> tuple:
    return tuple(c / 255.0 for c in color)


def draw_page_mpl(signal: np.ndarray, sampling_rate: float, page: Page, style: PaperStyle) -> np.ndarray:
    """The page drawn by matplotlib, ``(H, W, 3)`` uint8 RGB."""
    dpi = float(style.dpi)
    fig = Figure(figsize=(page.width_px / dpi, page.height_px / dpi), dpi=dpi, facecolor=_rgb(style.paper_color))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, page.width_px / page.px_per_mm)
    ax.set_ylim(page.height_px / page.px_per_mm, 0)
    px_pt = POINTS_PER_INCH / dpi  # one pixel in points
    minor, major = style.grid_colors
    if minor is not None:
        for every, color, width in ((1, minor, 0.12), (5, major, 0.25)):
            xs = np.arange(0, np.floor(page.width_mm) + 1, every)
            ys = np.arange(0, np.floor(page.height_mm) + 1, every)
            segs = [((x, 0), (x, page.height_mm)) for x in xs] + [((0, y), (page.width_mm, y)) for y in ys]
            lw = max(1, round(width * page.px_per_mm)) * px_pt
            ax.add_collection(LineCollection(segs, colors=[_rgb(color)], linewidths=lw, antialiased=False))
    trace_kw = dict(color=_rgb(style.trace_color), linewidth=style.line_width_px * px_pt, antialiased=True)
    for trace in page.traces:
        pts = trace_points(signal, sampling_rate, trace, style)
        ax.plot(pts[:, 0], pts[:, 1], **trace_kw)
    if style.calibration:
        for baseline in page.rows_mm:
            pts = calibration_points(baseline, style)
            ax.plot(pts[:, 0], pts[:, 1], **trace_kw)
    if style.labels:
        size = LABEL_MM / MM_PER_INCH * POINTS_PER_INCH / 0.72  # cap height is about 0.72 em
        for trace in page.traces:
            ax.text(trace.x_mm + 1.0, trace.baseline_mm - LABEL_ABOVE_MM, trace.label, fontsize=size,
                    color=_rgb(style.trace_color), va="baseline", ha="left")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    out = np.empty((page.height_px, page.width_px, 3), np.uint8)
    out[:] = style.paper_color
    h, w = min(rgb.shape[0], page.height_px), min(rgb.shape[1], page.width_px)
    out[:h, :w] = rgb[:h, :w]
    return out


def render_printout(signal_mv, sampling_rate: float, lead_names, layout: str = "3x4",
                    style: PaperStyle = PaperStyle()) -> np.ndarray:
    """Matplotlib twin of :func:`ecgtf.render.opencv_renderer.render_printout` (same size)."""
    lay = get_layout(layout) if isinstance(layout, str) else layout
    signal = as_signal(signal_mv, len(lead_names))
    if lay.per_lead:
        return np.concatenate(list(render_leads(signal, sampling_rate, lead_names, style)), axis=0)
    page = plan_page(lay, lead_names, len(signal) / float(sampling_rate), style)
    return draw_page_mpl(signal, float(sampling_rate), page, style)


def render_leads(signal_mv, sampling_rate: float, lead_names, style: PaperStyle = PaperStyle(),
                 duration_s: float | None = None) -> np.ndarray:
    """Matplotlib twin of :func:`ecgtf.render.opencv_renderer.render_leads`, ``(leads, H, W, 3)``."""
    signal = as_signal(signal_mv, len(lead_names))
    rate = float(sampling_rate)
    page = plan_page(LAYOUTS["lead"], ["x"], float(duration_s) if duration_s else len(signal) / rate, style)
    return np.stack([draw_page_mpl(signal, rate, dataclasses.replace(
        page, traces=(dataclasses.replace(page.traces[0], lead=i, label=display_name(name)),)), style)
        for i, name in enumerate(lead_names)])
