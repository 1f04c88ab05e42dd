"""The grid's scale: pixels per millimetre along x and along y, from the grid's own period.

ECG paper has a line every 1 mm and a heavier one every 5 mm. The mean ink of each image
column (or row), trace pixels left out, is then periodic. Its autocorrelation peaks at every
multiple of the line spacing; the first clear peak is the visible spacing, which is 1 mm when
the minor lines show and 5 mm when only the major ones do (a low-resolution scan, a dotted or
faint minor grid). That is decided by the profile's spectrum: a 5 mm grid repeats its pattern
every fifth minor line, so its spectrum has a peak at a fifth of the minor frequency. The
period is then refined on the farthest clear autocorrelation peak (sub-pixel, by a parabola
through the peak), which makes it precise to a few parts in ten thousand. No DPI is assumed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.ndimage
import scipy.signal

#: Shortest and longest visible line spacing searched (pixels).
MIN_PERIOD_PX = 2.5
MAX_PERIOD_PX = 150.0


@dataclasses.dataclass(frozen=True)
class AxisGrid:
    """The grid along one axis.

    Attributes:
        px_per_mm: pixels per millimetre (0 when no grid was found).
        spacing_mm: the visible line spacing: 1 (minor lines) or 5 (major only).
        phase_px: position of a major (5 mm) line, modulo its period (for drawing the overlay).
        confidence: the autocorrelation at the chosen period (0-1).
    """

    px_per_mm: float
    spacing_mm: int
    phase_px: float
    confidence: float


def _profile(ink: np.ndarray, axis: int) -> np.ndarray:
    p = ink.mean(axis=axis).astype(np.float64)
    trend = scipy.ndimage.uniform_filter1d(p, size=int(MAX_PERIOD_PX) | 1, mode="nearest")
    return p - trend


def _autocorr(p: np.ndarray) -> np.ndarray:
    n = len(p)
    spec = np.fft.rfft(p, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    return ac / ac[0] if ac[0] > 0 else np.zeros(n)


def _parabolic(y: np.ndarray, i: int) -> float:
    if 0 < i < len(y) - 1:
        a, b, c = y[i - 1], y[i], y[i + 1]
        d = a - 2 * b + c
        if d < 0:
            return i + 0.5 * (a - c) / d
    return float(i)


def _peak_near(ac: np.ndarray, lag: float, tol: float) -> tuple[float, float]:
    lo, hi = max(1, int(lag - tol)), min(len(ac) - 1, int(lag + tol) + 1)
    if hi <= lo:
        return lag, 0.0
    i = lo + int(np.argmax(ac[lo:hi]))
    return _parabolic(ac, i), float(ac[i])


def axis_grid(ink: np.ndarray, axis: int) -> AxisGrid:
    """The grid along the image's x (``axis=0``: a profile over columns) or y (``axis=1``)."""
    p = _profile(ink, axis)
    n = len(p)
    if n < 4 * MIN_PERIOD_PX or not np.any(p):
        return AxisGrid(0.0, 0, 0.0, 0.0)
    ac = _autocorr(p)
    max_lag = int(min(MAX_PERIOD_PX, n / 4))
    peaks, _ = scipy.signal.find_peaks(ac[:max_lag + 1], height=0.15, prominence=0.05)
    peaks = [int(i) for i in peaks if i >= MIN_PERIOD_PX]
    if not peaks:
        return AxisGrid(0.0, 0, 0.0, 0.0)
    # The first clear peak is the visible spacing, unless a peak at twice its lag is weaker
    # than one at five times (then the first is a minor line and the pattern is 5 mm).
    first = peaks[0]
    spacing = float(first)
    conf = float(ac[first])
    # Refine on the farthest multiple still clearly peaked.
    k = 1
    for m in range(2, int((n / 3) // spacing) + 1):
        lag, height = _peak_near(ac, m * spacing, max(1.5, 0.1 * spacing))
        if height < 0.1:
            break
        spacing, k = lag / m, m
    spacing = _peak_near(ac, k * spacing, 1.5)[0] / k
    # Minor (1 mm) or major (5 mm)? A major period shows in the spectrum at a fifth of the
    # line frequency when the heavier lines recur every fifth line.
    spec = np.abs(np.fft.rfft(p * np.hanning(n)))
    freq = np.fft.rfftfreq(n)
    f_line = 1.0 / spacing

    def band(f):
        i = int(round(f * n))
        return float(spec[max(i - 2, 0): i + 3].max()) if 0 < i < len(spec) - 2 else 0.0

    noise = float(np.median(spec[(freq > 0.5 * f_line / 5) & (freq < 2 * f_line)])) + 1e-12
    fifth = max(band(f_line / 5), band(2 * f_line / 5))
    # Lines 5 mm apart less than 6 px apart would leave 1 mm under 1.2 px: no readable page.
    spacing_mm = 1 if fifth > 4 * noise or spacing < 6.0 else 5
    px_per_mm = spacing / spacing_mm
    # Phase of the major lines: where the profile's component at the 5 mm period peaks.
    major = px_per_mm * 5
    component = np.sum(p * np.exp(-2j * np.pi * np.arange(n) / major))
    phase = float(-np.angle(component) * major / (2 * np.pi)) % major
    return AxisGrid(float(px_per_mm), spacing_mm, phase, max(0.0, min(1.0, conf)))
