"""Pure signal transforms on ``(samples, leads)`` arrays in mV.

Every function takes the signal first, states its ``sampling_rate`` in Hz where it
matters, and returns a new array; none does I/O.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.ndimage
import scipy.signal

_CROP_MODES = {"center", "random", "start"}


def bandpass(signal_mv: np.ndarray, sampling_rate: float, low_hz: float = 0.5, high_hz: float = 40.0,
             order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass filter along time.

    Args:
        signal_mv: ``(samples, leads)`` in mV.
        sampling_rate: Hz.
        low_hz: lower cut-off in Hz (0 or None for a low-pass).
        high_hz: upper cut-off in Hz; capped just under the Nyquist frequency.
        order: filter order (applied forward and backward).

    Returns:
        The filtered signal, same shape, float32, in mV.
    """
    nyq = 0.5 * sampling_rate
    high = min(high_hz, 0.99 * nyq) if high_hz else None
    if low_hz and high:
        sos = scipy.signal.butter(order, [low_hz, high], btype="bandpass", fs=sampling_rate, output="sos")
    elif high:
        sos = scipy.signal.butter(order, high, btype="lowpass", fs=sampling_rate, output="sos")
    elif low_hz:
        sos = scipy.signal.butter(order, low_hz, btype="highpass", fs=sampling_rate, output="sos")
    else:
        return np.asarray(signal_mv, dtype=np.float32).copy()
    return _sosfiltfilt(sos, signal_mv)


def notch(signal_mv: np.ndarray, sampling_rate: float, freq_hz: float = 50.0, quality: float = 30.0) -> np.ndarray:
    """Zero-phase IIR notch at the power-line frequency (50 or 60 Hz).

    A notch at or above the Nyquist frequency is a no-op (the signal holds no such content).
    """
    if freq_hz >= 0.5 * sampling_rate:
        return np.asarray(signal_mv, dtype=np.float32).copy()
    b, a = scipy.signal.iirnotch(freq_hz, quality, fs=sampling_rate)
    return scipy.signal.filtfilt(b, a, np.asarray(signal_mv, dtype=np.float64), axis=0).astype(np.float32)


def remove_baseline(signal_mv: np.ndarray, sampling_rate: float, window_s: tuple[float, float] = (0.2, 0.6)) -> np.ndarray:
    """Removes baseline wander by subtracting a two-stage median filter (200 ms, then 600 ms).

    Args:
        signal_mv: ``(samples, leads)`` in mV.
        sampling_rate: Hz.
        window_s: the two median-filter widths in seconds.
    """
    x = np.asarray(signal_mv, dtype=np.float32)
    base = x
    for w in window_s:
        k = max(1, int(round(w * sampling_rate)) // 2 * 2 + 1)
        base = _median(base, k)
    return (x - base).astype(np.float32)


def resample(signal_mv: np.ndarray, sampling_rate: float, target_rate: float) -> np.ndarray:
    """Polyphase resampling from ``sampling_rate`` to ``target_rate`` (both Hz).

    Uses ``scipy.signal.resample_poly`` with the exact rational ratio (e.g. 257 -> 400 Hz).
    """
    if float(sampling_rate) == float(target_rate):
        return np.asarray(signal_mv, dtype=np.float32)
    ratio = Fraction(str(float(target_rate))) / Fraction(str(float(sampling_rate)))
    ratio = ratio.limit_denominator(10000)
    y = scipy.signal.resample_poly(np.asarray(signal_mv, dtype=np.float64), ratio.numerator, ratio.denominator, axis=0)
    return y.astype(np.float32)


def resampled_length(n_samples: int, sampling_rate: float, target_rate: float) -> int:
    """Number of samples :func:`resample` returns."""
    if float(sampling_rate) == float(target_rate):
        return n_samples
    ratio = (Fraction(str(float(target_rate))) / Fraction(str(float(sampling_rate)))).limit_denominator(10000)
    return int(math.ceil(n_samples * ratio.numerator / ratio.denominator))


def pad_or_crop(signal_mv: np.ndarray, length: int, mode: str = "center", rng: np.random.Generator | None = None,
                pad_mode: str = "center") -> np.ndarray:
    """Returns exactly ``length`` samples: crops longer signals and zero-pads shorter ones.

    Args:
        signal_mv: ``(samples, leads)``.
        length: output samples.
        mode: where to crop a longer signal: ``"center"``, ``"start"`` or ``"random"`` (needs ``rng``).
        rng: random generator for ``mode="random"``.
        pad_mode: where the zeros go for a shorter signal: ``"center"`` (both ends, as the
            Ribeiro model expects) or ``"end"``.
    """
    if mode not in _CROP_MODES:
        raise ValueError(f"mode must be one of {sorted(_CROP_MODES)}, got {mode!r}")
    x = np.asarray(signal_mv, dtype=np.float32)
    n = x.shape[0]
    if n >= length:
        if mode == "center":
            start = (n - length) // 2
        elif mode == "start":
            start = 0
        else:
            if rng is None:
                raise ValueError("mode='random' needs an rng")
            start = int(rng.integers(0, n - length + 1))
        return x[start:start + length]
    out = np.zeros((length,) + x.shape[1:], dtype=np.float32)
    offset = (length - n) // 2 if pad_mode == "center" else 0
    out[offset:offset + n] = x
    return out


def standardize(signal_mv: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Per-lead standardisation: zero mean and unit variance along time (unitless output)."""
    x = np.asarray(signal_mv, dtype=np.float32)
    return ((x - x.mean(axis=0, keepdims=True)) / (x.std(axis=0, keepdims=True) + eps)).astype(np.float32)


def _sosfiltfilt(sos, x):
    x = np.asarray(x, dtype=np.float64)
    padlen = min(3 * (2 * len(sos) + 1), x.shape[0] - 1)
    return scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=max(padlen, 0)).astype(np.float32)


def _median(x: np.ndarray, k: int) -> np.ndarray:
    size = (k, 1) if x.ndim == 2 else k
    return scipy.ndimage.median_filter(x, size=size, mode="nearest")
