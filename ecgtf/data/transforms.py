"""Pure signal transforms on ``(samples, leads)`` arrays in mV.

Every function takes the signal first, states its ``sampling_rate`` in Hz where it
matters, and returns a new array; none does I/O.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import scipy.ndimage
import scipy.signal


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


def centre_offsets(n_samples, length: int):
    """``(crop_start, pad_before)`` of the centred ``length``-sample window of ``n_samples`` samples.

    The one rule for where a centre window sits (ints or tensors): a longer record is cut at
    ``(n - length) // 2``; a shorter one gets ``(length - n) // 2`` zeros before it.
    """
    return (n_samples - length) // 2, (length - n_samples) // 2


def pad_or_crop(signal_mv: np.ndarray, length: int, start: int | None = None, pad_mode: str = "center") -> np.ndarray:
    """Exactly ``length`` samples of ``signal_mv`` ``(samples, leads)``: the one crop/pad of ecgtf.

    Args:
        signal_mv: ``(samples, leads)`` in mV.
        length: output samples.
        start: None for the centre window; any non-negative integer for the window starting at
            ``start`` modulo the number of possible starts (a random crop takes a random integer).
        pad_mode: where the zeros go for a shorter signal: ``"center"`` (both ends, as the
            Ribeiro model expects and as the saved model's ``CenterCropOrPad`` does) or ``"end"``.

    Returns:
        ``(length, leads)`` float32 (a copy).
    """
    if pad_mode not in ("center", "end"):
        raise ValueError(f"pad_mode must be center or end, got {pad_mode!r}")
    x = np.asarray(signal_mv, dtype=np.float32)
    n = x.shape[0]
    crop_start, pad_before = centre_offsets(n, length)
    if n >= length:
        first = crop_start if start is None else int(start) % (n - length + 1)
        return x[first:first + length].copy()
    out = np.zeros((length,) + x.shape[1:], dtype=np.float32)
    offset = pad_before if pad_mode == "center" else 0
    out[offset:offset + n] = x
    return out


#: Whole-record filters applied at decode, by ``--signal-filter`` name.
FILTERS = {
    "none": lambda x, fs: np.asarray(x, dtype=np.float32),
    "bandpass": lambda x, fs: bandpass(x, fs, 0.5, 40.0),
    "baseline": lambda x, fs: remove_baseline(x, fs),
}


def decode_signal(signal_mv: np.ndarray, sampling_rate: float, target_rate: float,
                  signal_filter: str = "none") -> np.ndarray:
    """A whole record as every run consumes it: resampled to ``target_rate`` Hz, then filtered.

    The one whole-record step of ecgtf: the record store, the Grad-CAM gallery and prediction
    on files all call it, so a ``--signal-filter bandpass`` run is explained and scored on the
    signals it was trained on.

    Args:
        signal_mv: ``(samples, leads)`` in mV at ``sampling_rate`` Hz.
        sampling_rate: the file's rate in Hz.
        target_rate: the run's rate in Hz.
        signal_filter: a key of :data:`FILTERS`.

    Returns:
        ``(samples', leads)`` float32 in mV.
    """
    if signal_filter not in FILTERS:
        raise ValueError(f"signal_filter must be one of {', '.join(FILTERS)}, got {signal_filter!r}")
    return FILTERS[signal_filter](resample(signal_mv, sampling_rate, target_rate), float(target_rate))


def _sosfiltfilt(sos, x):
    x = np.asarray(x, dtype=np.float64)
    padlen = min(3 * (2 * len(sos) + 1), x.shape[0] - 1)
    return scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=max(padlen, 0)).astype(np.float32)


def _median(x: np.ndarray, k: int) -> np.ndarray:
    size = (k, 1) if x.ndim == 2 else k
    return scipy.ndimage.median_filter(x, size=size, mode="nearest")
