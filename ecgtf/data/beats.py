"""Beats: QRS detection and the per-lead median beat (NumPy/SciPy).

The median beat is what classical 12-lead interpretation reads: every complete beat of a
recording is cut out around its QRS, aligned, and the per-sample median over beats is
taken for each lead. Noise, baseline wander and odd beats fall away; amplitudes (mV),
Q waves, ST level, T waves and QRS width stay. On small training sets (PTB-XL here has
~1,100 training records) a network on this ``(before_s + after_s) * sampling_rate``-sample
beat generalises better than one on 10 s of raw signal (see the README's benchmarks).

QRS detector: band-pass 5-20 Hz (QRS energy), square and sum over leads, smooth over
80 ms, then local maxima at least ``min_rr_s`` apart and above ``rel_height`` times a reference
height (the median of the tallest maxima, one per 2 s, so a few artefacts do not set it). The
smoothed envelope is flat-topped over a QRS, so each detection is moved to the peak of the
unsmoothed energy within 50 ms: that fiducial point (the steepest part of the QRS, not the R
apex) is the same for every beat of one morphology, which is all alignment needs.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

DEFAULT_BEFORE_S = 0.3
DEFAULT_AFTER_S = 0.5
QRS_BAND_HZ = (5.0, 20.0)
ENVELOPE_S = 0.08
REFINE_S = 0.05


def qrs_energy(signals_mv: np.ndarray, sampling_rate: float) -> np.ndarray:
    """QRS band energy of ``(samples, leads)`` or ``(batch, samples, leads)`` signals.

    Args:
        signals_mv: signals in mV, time on axis -2.
        sampling_rate: Hz; must exceed 40 Hz (twice the band's upper edge).

    Returns:
        ``(samples,)`` or ``(batch, samples)``: the zero-phase 5-20 Hz band-passed signal,
        squared and summed over leads (mV^2).
    """
    x = np.asarray(signals_mv, dtype=np.float64)
    if sampling_rate <= 2 * QRS_BAND_HZ[1]:
        raise ValueError(f"QRS detection needs sampling_rate > {2 * QRS_BAND_HZ[1]:g} Hz, got {sampling_rate:g}")
    sos = scipy.signal.butter(2, QRS_BAND_HZ, btype="band", fs=sampling_rate, output="sos")
    axis = x.ndim - 2
    # SciPy's default pad length, shortened for signals shorter than it.
    default_pad = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    band = scipy.signal.sosfiltfilt(sos, x, axis=axis, padlen=int(min(default_pad, x.shape[axis] - 1)))
    return (band ** 2).sum(axis=-1)


def detect_qrs(signal_mv: np.ndarray, sampling_rate: float, *, min_rr_s: float = 0.25,
               rel_height: float = 0.25, energy: np.ndarray | None = None) -> np.ndarray:
    """Sample indices of the QRS complexes of one recording.

    Args:
        signal_mv: ``(samples, leads)`` in mV (a 1-D array is taken as one lead).
        sampling_rate: Hz.
        min_rr_s: shortest accepted RR interval (s); 0.25 s allows 240 beats/min.
        rel_height: a peak must reach this fraction of the reference height (the median of
            the ``duration / 2 s`` tallest envelope peaks).
        energy: a precomputed :func:`qrs_energy` of this signal (saves the filtering).

    Returns:
        Increasing int64 sample indices (empty for a flat signal).
    """
    x = np.asarray(signal_mv)
    if x.ndim == 1:
        x = x[:, None]
    energy = qrs_energy(x, sampling_rate) if energy is None else np.asarray(energy)
    env = scipy.ndimage.uniform_filter1d(energy, max(int(round(ENVELOPE_S * sampling_rate)), 1), mode="nearest")
    distance = max(int(round(min_rr_s * sampling_rate)), 1)
    candidates, found = scipy.signal.find_peaks(env, distance=distance, height=0.0)
    # Reference height: the median of the tallest candidates, as many as a 30 beats/min
    # rhythm would give, so that one or two artefacts (electrode pops) do not set it.
    top = np.sort(found["peak_heights"])[::-1][:max(int(len(x) / sampling_rate / 2), 1)]
    if len(top) == 0 or not np.isfinite(np.median(top)) or np.median(top) <= 0:
        return np.zeros(0, dtype=np.int64)
    peaks = candidates[found["peak_heights"] >= rel_height * np.median(top)]
    reach = int(round(REFINE_S * sampling_rate))
    # Pad once (not per peak: that made long records quadratic); window k of the padded
    # energy spans samples peaks[k] - reach .. peaks[k] + reach of the original.
    padded = np.pad(energy, reach, constant_values=-1.0)
    windows = padded[peaks[:, None] + np.arange(2 * reach + 1)[None, :]]
    refined = peaks - reach + np.argmax(windows, axis=1)
    return np.unique(refined.astype(np.int64))


def beat_length(sampling_rate: float, before_s: float = DEFAULT_BEFORE_S, after_s: float = DEFAULT_AFTER_S) -> int:
    """Samples in a beat window: ``round(before_s * fs) + round(after_s * fs)``."""
    if before_s < 0 or after_s <= 0:
        raise ValueError(f"need before_s >= 0 and after_s > 0 (s), got {before_s}, {after_s}")
    return int(round(before_s * sampling_rate)) + int(round(after_s * sampling_rate))


def median_beat(signal_mv: np.ndarray, sampling_rate: float, before_s: float = DEFAULT_BEFORE_S,
                after_s: float = DEFAULT_AFTER_S, *, energy: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The per-lead median over every complete beat of one recording.

    Args:
        signal_mv: ``(samples, leads)`` in mV.
        sampling_rate: Hz.
        before_s, after_s: window around each QRS fiducial point (s).
        energy: a precomputed :func:`qrs_energy` of this signal.

    Returns:
        ``(beat, n_beats)``: ``beat`` is ``(beat_length, leads)`` float32 in mV, all zeros when
        no complete beat was found (``n_beats`` 0: a flat or too short signal).
    """
    x = np.asarray(signal_mv, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    pre = int(round(before_s * sampling_rate))
    n = beat_length(sampling_rate, before_s, after_s)
    peaks = detect_qrs(x, sampling_rate, energy=energy)
    peaks = peaks[(peaks >= pre) & (peaks - pre + n <= len(x))]
    if len(peaks) == 0:
        return np.zeros((n, x.shape[1]), dtype=np.float32), 0
    index = peaks[:, None] - pre + np.arange(n)[None, :]
    return np.median(x[index], axis=0).astype(np.float32), len(peaks)


def median_beats(signals_mv: np.ndarray, sampling_rate: float, before_s: float = DEFAULT_BEFORE_S,
                 after_s: float = DEFAULT_AFTER_S) -> np.ndarray:
    """:func:`median_beat` of every record of a batch ``(batch, samples, leads)`` (mV).

    The band-pass runs once over the whole batch. Returns ``(batch, beat_length, leads)`` float32.
    """
    x = np.asarray(signals_mv, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"expected (batch, samples, leads), got shape {x.shape}")
    out = np.zeros((len(x), beat_length(sampling_rate, before_s, after_s), x.shape[2]), dtype=np.float32)
    if len(x) == 0:
        return out
    energies = qrs_energy(x, sampling_rate)
    for i in range(len(x)):
        out[i] = median_beat(x[i], sampling_rate, before_s, after_s, energy=energies[i])[0]
    return out
