"""The fast renderer: ECG printouts drawn with OpenCV straight into NumPy arrays.

The grid of each (page size, style) is drawn once, cached and copied for every record; the
traces are anti-aliased polylines at 1/16 pixel precision. Same input, same pixels.
"""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

from ecgtf.render.paper import (LAYOUTS, Page, PaperStyle, as_signal, calibration_points, display_name, get_layout,
                                grid_lines_px, plan_page, trace_points)

_SHIFT = 4  # polyline coordinates in 1/16 pixel
_FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_MM = 3.0  # label letter height (mm)
LABEL_ABOVE_MM = 8.0  # label's foot above the trace's baseline (mm)


@functools.lru_cache(maxsize=32)
def _grid(width_px: int, height_px: int, width_mm: float, height_mm: float, style: PaperStyle) -> np.ndarray:
    """The empty paper of a page, read-only (copy it before drawing)."""
    img = np.empty((height_px, width_px, 3), np.uint8)
    img[:] = style.paper_color
    minor, major = style.grid_colors
    if minor is not None:
        ppm = style.px_per_mm
        for every, color, width in ((1, minor, max(1, round(0.12 * ppm))), (5, major, max(1, round(0.25 * ppm)))):
            lo = -(width // 2)
            for x in grid_lines_px(width_mm, ppm, every):
                img[:, max(0, x + lo):max(0, x + lo + width)] = color
            for y in grid_lines_px(height_mm, ppm, every):
                img[max(0, y + lo):max(0, y + lo + width), :] = color
    img.setflags(write=False)
    return img


def blank_page(page: Page, style: PaperStyle) -> np.ndarray:
    """A writable copy of the page's paper and grid, ``(H, W, 3)`` uint8 RGB."""
    return _grid(page.width_px, page.height_px, page.width_mm, page.height_mm, style).copy()


def _polyline(img: np.ndarray, points_mm: np.ndarray, ppm: float, style: PaperStyle) -> None:
    pts = np.round(points_mm * ppm * (1 << _SHIFT)).astype(np.int32)
    cv2.polylines(img, [pts], False, style.trace_color, int(style.line_width_px), cv2.LINE_AA, _SHIFT)


def draw_page(img: np.ndarray, signal: np.ndarray, sampling_rate: float, page: Page, style: PaperStyle) -> np.ndarray:
    """Draws the page's traces, calibration pulses and labels onto ``img`` (in place)."""
    ppm = page.px_per_mm
    for trace in page.traces:
        _polyline(img, trace_points(signal, sampling_rate, trace, style), ppm, style)
    if style.calibration:
        for baseline in page.rows_mm:
            _polyline(img, calibration_points(baseline, style), ppm, style)
    if style.labels:
        scale = LABEL_MM * ppm / cv2.getTextSize("I", _FONT, 1.0, 1)[0][1]
        thick = max(1, round(0.25 * ppm))
        for trace in page.traces:
            org = (int(round((trace.x_mm + 1.0) * ppm)), int(round((trace.baseline_mm - LABEL_ABOVE_MM) * ppm)))
            cv2.putText(img, trace.label, org, _FONT, scale, style.trace_color, thick, cv2.LINE_AA)
    return img


def render_printout(signal_mv, sampling_rate: float, lead_names, layout: str = "3x4",
                    style: PaperStyle = PaperStyle()) -> np.ndarray:
    """A paper printout of one record.

    Args:
        signal_mv: ``(samples, leads)`` in mV at ``sampling_rate``.
        sampling_rate: Hz.
        lead_names: one name per column of ``signal_mv`` (``AVR`` and ``aVR`` both match).
        layout: a key of :data:`ecgtf.render.paper.LAYOUTS`. ``3x4`` and ``3x4_rhythm`` show
            10 s (padded or cropped) and need the 12 standard leads; ``stack`` shows every lead
            over the whole record; ``lead`` gives the :func:`render_leads` images one above
            the other.
        style: the :class:`PaperStyle`.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    lay = get_layout(layout) if isinstance(layout, str) else layout
    signal = as_signal(signal_mv, len(lead_names))
    if lay.per_lead:
        return np.concatenate(list(render_leads(signal, sampling_rate, lead_names, style)), axis=0)
    page = plan_page(lay, lead_names, len(signal) / float(sampling_rate), style)
    return draw_page(blank_page(page, style), signal, float(sampling_rate), page, style)


def render_leads(signal_mv, sampling_rate: float, lead_names, style: PaperStyle = PaperStyle(),
                 duration_s: float | None = None) -> np.ndarray:
    """One image per lead (the ``lead`` layout), every one the same size.

    Args:
        signal_mv: ``(samples, leads)`` in mV at ``sampling_rate``.
        sampling_rate: Hz.
        lead_names: one name per lead.
        style: the :class:`PaperStyle`.
        duration_s: seconds shown (padded with a flat line or cropped); the whole record when None.

    Returns:
        ``(leads, H, W, 3)`` uint8 RGB.
    """
    signal = as_signal(signal_mv, len(lead_names))
    rate = float(sampling_rate)
    duration = float(duration_s) if duration_s else len(signal) / rate
    page = plan_page(LAYOUTS["lead"], ["x"], duration, style)
    out = np.empty((len(lead_names), page.height_px, page.width_px, 3), np.uint8)
    for i, name in enumerate(lead_names):
        trace = dataclasses.replace(page.traces[0], lead=i, label=display_name(name))
        lead_page = dataclasses.replace(page, traces=(trace,))
        out[i] = draw_page(blank_page(page, style), signal, rate, lead_page, style)
    return out
