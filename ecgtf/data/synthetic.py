"""Synthetic ECGs: P-QRS-T beats made of Gaussian waves, with rhythm and noise.

Every beat is a sum of Gaussian waves (P, Q, R, S, T, plus the extra deflections of
bundle-branch blocks) and an ST plateau, placed at continuous beat times and added
into the record. Wave amplitudes are tabulated for eight independent leads
(I, II, V1-V6); III, aVR, aVL and aVF follow from Einthoven's and Goldberger's
relations, so the limb leads are always consistent. Amplitudes are in mV (R about
0.5-1.5 mV), times in seconds.

The functions here are pure: the same ``rng`` seed gives the same signal, and
nothing is read or written.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np
from scipy.special import expit

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
CONDITIONS = (
    "normal", "mi_anterior", "mi_inferior", "mi_lateral", "af", "1davb", "rbbb", "lbbb",
    "sb", "st", "sttc", "lvh", "lad", "pvc", "noise",
)
# Pairs that cannot describe one record.
INCOMPATIBLE = (
    ("sb", "st"), ("rbbb", "lbbb"), ("af", "1davb"), ("af", "sb"), ("af", "st"),
    ("lad", "rbbb"), ("lad", "lbbb"),
)

# The eight independent leads every wave is tabulated for.
_BASIS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
# Output lead -> weights over _BASIS (Einthoven / Goldberger for the limb leads).
_LEAD_WEIGHTS = {
    "I": {"I": 1.0}, "II": {"II": 1.0}, "III": {"II": 1.0, "I": -1.0},
    "AVR": {"I": -0.5, "II": -0.5}, "AVL": {"I": 1.0, "II": -0.5}, "AVF": {"II": 1.0, "I": -0.5},
    **{f"V{i}": {f"V{i}": 1.0} for i in range(1, 7)},
    "ECG": {"II": 1.0},  # single-lead devices (CinC 2017): looks like lead II
}

# Normal amplitude tables over _BASIS (mV).        I     II    V1    V2    V3    V4    V5    V6
_P = np.array([0.08, 0.15, 0.05, 0.08, 0.08, 0.08, 0.08, 0.07])
_Q = np.array([-0.05, -0.06, 0.0, 0.0, 0.0, -0.02, -0.08, -0.08])
_R = np.array([0.70, 1.10, 0.25, 0.50, 0.80, 1.20, 1.30, 1.00])
_S = np.array([-0.10, -0.20, -0.90, -1.30, -0.80, -0.40, -0.15, -0.05])
_T = np.array([0.20, 0.30, 0.05, 0.40, 0.45, 0.40, 0.30, 0.25])
# Bundle-branch-block QRS waves: (centre / QRS width, sigma / QRS width, amplitudes).
_RBBB = (
    (0.08, 0.04, np.array([-0.05, 0.0, 0.0, 0.0, 0.0, 0.0, -0.05, -0.05])),      # small septal q
    (0.25, 0.08, np.array([0.60, 0.80, 0.25, 0.35, 0.50, 0.90, 1.10, 0.90])),    # initial r/R
    (0.48, 0.07, np.array([-0.05, -0.05, -0.40, -0.60, -0.30, -0.10, -0.05, 0.0])),  # S
    (0.75, 0.12, np.array([-0.35, -0.20, 0.80, 0.60, 0.10, -0.30, -0.35, -0.35])),   # R' in V1, slurred S
)
_LBBB = (
    (0.30, 0.11, np.array([0.80, 0.40, 0.0, 0.0, 0.10, 0.40, 0.80, 0.90])),      # first R hump
    (0.68, 0.11, np.array([0.85, 0.45, 0.0, 0.0, 0.10, 0.50, 0.90, 0.90])),      # second (notch)
    (0.50, 0.16, np.array([0.0, 0.0, -1.10, -1.50, -1.20, -0.50, 0.0, 0.0])),    # QS in V1-V3
)
# ST shift at J+60 ms per MI territory (elevation there, reciprocal depression).
_MI_ST = {
    "mi_anterior": np.array([0.05, -0.12, 0.22, 0.32, 0.30, 0.22, 0.05, 0.0]),
    "mi_inferior": np.array([-0.07, 0.25, 0.0, -0.05, 0.0, 0.0, 0.0, 0.0]),
    "mi_lateral": np.array([0.22, 0.0, -0.08, 0.0, 0.0, 0.05, 0.22, 0.22]),
}
_MI_Q = {  # leads whose pathological Q a territory carries
    "mi_anterior": np.array([0, 0, 1, 1, 1, 0.5, 0, 0.0]),
    "mi_inferior": np.array([0, 1, 0, 0, 0, 0, 0, 0.0]),
    "mi_lateral": np.array([1, 0, 0, 0, 0, 0, 1, 1.0]),
}
_F_WAVES = np.array([0.3, 0.7, 1.0, 0.6, 0.4, 0.3, 0.2, 0.2])  # AF f-wave amplitude per lead
_ANCHOR_QRS, _ANCHOR_P, _ANCHOR_T = 0, 1, 2
_WINDOW = (-0.45, 0.75)  # beat template span around QRS onset (s)


@dataclasses.dataclass
class SynthInfo:
    """Ground truth of one synthetic record (times in s from the record start).

    Attributes:
        conditions: the conditions the record was made with.
        qrs_onsets_s: QRS onset of every beat inside the record.
        r_peaks_s: approximate time of the main QRS deflection of each beat.
        beat_types: ``"N"`` (supraventricular) or ``"V"`` (ectopic) per beat.
        pr_s: PR interval (P onset to QRS onset) per beat; NaN without a P wave.
        qrs_s: QRS duration of the supraventricular beats.
        heart_rate_bpm: mean heart rate over the record.
    """

    conditions: tuple[str, ...]
    qrs_onsets_s: np.ndarray
    r_peaks_s: np.ndarray
    beat_types: np.ndarray
    pr_s: np.ndarray
    qrs_s: float
    heart_rate_bpm: float


@dataclasses.dataclass
class _Morphology:
    """One beat type: Gaussian waves and an ST plateau over _BASIS."""

    anchors: np.ndarray  # (waves,) _ANCHOR_*
    centres: np.ndarray  # (waves,) s, relative to the anchor
    sigmas: np.ndarray   # (waves,) s
    amps: np.ndarray     # (waves, 8) mV
    st: np.ndarray       # (8,) mV plateau from J point to the T peak
    qrs_s: float
    qt_extra_s: float = 0.0


def synthesize_ecg(conditions: Iterable[str], sampling_rate: float, duration_s: float,
                   lead_names=LEADS_12, rng=None, noise_mv: float = 0.02,
                   return_info: bool = False):
    """Generates one ECG record.

    Args:
        conditions: any of :data:`CONDITIONS`; combinable where sensible (e.g.
            ``{"sb", "1davb"}``); empty means ``normal``.
        sampling_rate: Hz.
        duration_s: record length in seconds.
        lead_names: output leads: the 12 standard leads in any order and case
            (``"AVR"`` works too) or ``("ECG",)`` for a single lead like lead II.
        rng: ``np.random.Generator``, an int seed, or None.
        noise_mv: scale of the noise in mV: broadband (EMG-like) noise of this
            standard deviation, baseline wander of about 5x and mains hum of about
            0.5x it. 0 gives a clean signal.
        return_info: also return a :class:`SynthInfo` with the ground truth.

    Returns:
        float32 array ``(samples, leads)`` in mV, with
        ``samples = round(duration_s * sampling_rate)``; and the :class:`SynthInfo`
        when ``return_info`` is set.

    Raises:
        ValueError: unknown or incompatible conditions, or unknown lead names.
    """
    conds = _check_conditions(conditions)
    rng = np.random.default_rng(rng)
    fs = float(sampling_rate)
    n = int(round(duration_s * fs))
    projection = _projection(lead_names)
    if "noise" in conds:
        return _noise_record(conds, fs, n, projection, rng, noise_mv, return_info)

    onsets, types, rr_prev, pr = _beat_times(conds, n / fs, rng)
    sinus = _sinus_morphology(conds, rng)
    ectopic = _ectopic_morphology(rng, sinus.qrs_s)
    basis = np.zeros((n, len(_BASIS)))
    resp_f, resp_phase = rng.uniform(0.15, 0.35), rng.uniform(0, 2 * np.pi)
    for code, morph in ((0, sinus), (1, ectopic)):
        sel = types == code
        if sel.any():
            gain = 1.0 + 0.05 * np.sin(2 * np.pi * resp_f * onsets[sel] + resp_phase)
            gain *= 1.0 + 0.02 * rng.standard_normal(sel.sum())
            _add_beats(basis, fs, onsets[sel], pr[sel], _qt(rr_prev[sel], morph), morph, gain)
    if "af" in conds:
        basis += _f_waves(n, fs, rng)
    signal = basis @ projection
    signal += _noise(n, fs, signal.shape[1], rng, noise_mv)
    signal = signal.astype(np.float32)
    if not return_info:
        return signal
    inside = (onsets >= 0) & (onsets < n / fs)
    r_offset = np.where(types == 0, 0.45 * sinus.qrs_s, 0.5 * ectopic.qrs_s)
    rr = np.diff(onsets)
    info = SynthInfo(
        conditions=tuple(sorted(conds)), qrs_onsets_s=onsets[inside],
        r_peaks_s=(onsets + r_offset)[inside], beat_types=np.where(types == 0, "N", "V")[inside],
        pr_s=pr[inside], qrs_s=sinus.qrs_s, heart_rate_bpm=float(60.0 / rr.mean()),
    )
    return signal, info


# --- conditions and leads ------------------------------------------------------------------

def _check_conditions(conditions) -> frozenset:
    conds = frozenset([conditions] if isinstance(conditions, str) else conditions) or frozenset({"normal"})
    unknown = sorted(conds - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; valid conditions: {', '.join(CONDITIONS)}")
    if "normal" in conds and len(conds) > 1:
        raise ValueError(f"'normal' cannot be combined with {sorted(conds - {'normal'})}")
    for a, b in INCOMPATIBLE:
        if a in conds and b in conds:
            raise ValueError(f"conditions {a!r} and {b!r} cannot be combined")
    return conds


def _projection(lead_names) -> np.ndarray:
    """Matrix ``(8, leads)`` from the basis leads to the requested leads."""
    lead_names = [lead_names] if isinstance(lead_names, str) else list(lead_names)
    cols = []
    for name in lead_names:
        weights = _LEAD_WEIGHTS.get(str(name).upper())
        if weights is None:
            valid = ", ".join((*LEADS_12, "ECG"))
            raise ValueError(f"unknown lead name {name!r}; valid leads (any case): {valid}")
        cols.append([weights.get(b, 0.0) for b in _BASIS])
    return np.array(cols, dtype=np.float64).T


# --- rhythm --------------------------------------------------------------------------------

def _beat_times(conds, duration, rng):
    """QRS onsets (s), beat types (0 sinus, 1 ectopic), preceding RR and PR per beat."""
    if "af" in conds:
        rate = rng.uniform(70, 140)
    elif "sb" in conds:
        rate = rng.uniform(40, 55)
    elif "st" in conds:
        rate = rng.uniform(105, 150)
    else:
        rate = rng.uniform(60, 95)
    mean_rr = 60.0 / rate
    count = int((duration - _WINDOW[0] + 2.0) / min(mean_rr, 0.3) / 0.6) + 4
    k = np.arange(count)
    if "af" in conds:  # irregularly irregular: independent RR with a CV of about 0.25
        rr = mean_rr * rng.lognormal(0.0, rng.uniform(0.2, 0.3), count)
        rr = np.clip(rr, 0.28, 2.2)
    else:  # sinus: respiratory and Mayer-wave modulation plus a little jitter (CV ~3-5 %)
        t = k * mean_rr
        rr = mean_rr * (1.0 + rng.uniform(0.02, 0.05) * np.sin(2 * np.pi * rng.uniform(0.15, 0.35) * t
                                                                 + rng.uniform(0, 2 * np.pi))
                        + 0.02 * np.sin(2 * np.pi * 0.1 * t + rng.uniform(0, 2 * np.pi))
                        + 0.01 * rng.standard_normal(count))
    types = np.zeros(count, dtype=np.int64)
    if "pvc" in conds:  # premature ectopic beats with a compensatory pause
        chosen = np.flatnonzero(rng.random(count) < rng.uniform(0.1, 0.25))
        chosen = chosen[(chosen > 0) & (chosen < count - 1)]
        chosen = chosen[np.concatenate([[True], np.diff(chosen) > 1])] if chosen.size else chosen
        chosen = chosen[(chosen > 0) & (chosen < count - 1)]
        if chosen.size == 0:
            chosen = np.array([count // 2])
        coupling = rng.uniform(0.55, 0.7, chosen.size)
        pause = rr[chosen] * (1.0 - coupling)
        rr[chosen] *= coupling
        rr[chosen + 1] += pause
        types[chosen] = 1
    onsets = np.cumsum(rr) - rr[0] - rng.uniform(0, rr[0]) + _WINDOW[0]
    keep = onsets < duration + _WINDOW[1]
    onsets, types = onsets[keep], types[keep]
    rr_prev = np.concatenate([[rr[0]], np.diff(onsets)])
    if "af" in conds:
        pr = np.full(onsets.size, np.nan)
    else:
        lo, hi = (0.22, 0.32) if "1davb" in conds else (0.12, 0.20)
        pr = np.full(onsets.size, rng.uniform(lo, hi)) + rng.normal(0, 0.003, onsets.size)
        pr[types == 1] = np.nan
    return onsets, types, rr_prev, pr


def _qt(rr_prev, morph):
    """QT (s) per beat by Fridericia's correction from a QTc of 0.38-0.42 s."""
    return 0.40 * np.cbrt(np.clip(rr_prev, 0.3, 2.0)) + morph.qt_extra_s


# --- morphology ----------------------------------------------------------------------------

def _sinus_morphology(conds, rng) -> _Morphology:
    gain = rng.uniform(0.75, 1.25) * rng.uniform(0.85, 1.15, len(_BASIS))
    waves = []  # (anchor, centre, sigma, amps)
    if "af" not in conds:
        waves.append((_ANCHOR_P, 0.05, 0.02, _P * gain))
    if "rbbb" in conds or "lbbb" in conds:
        table = _RBBB if "rbbb" in conds else _LBBB
        qrs = rng.uniform(0.12, 0.15) if "rbbb" in conds else rng.uniform(0.13, 0.16)
        waves += [(_ANCHOR_QRS, c * qrs, s * qrs, a * gain) for c, s, a in table]
    else:
        qrs = rng.uniform(0.08, 0.10)
        r, s = _R * gain, _S * gain
        if "lad" in conds:  # frontal axis beyond -30 degrees: rS in II, III and aVF
            r[0], r[1], s[1] = max(r[0], 0.9), 0.35, -0.5
        waves += [(_ANCHOR_QRS, 0.15 * qrs, 0.06 * qrs, _Q * gain),
                  (_ANCHOR_QRS, 0.45 * qrs, 0.10 * qrs, r),
                  (_ANCHOR_QRS, 0.75 * qrs, 0.08 * qrs, s)]
    t_amp = _T * gain
    st = np.zeros(len(_BASIS))
    if "rbbb" in conds:  # secondary T inversion in V1-V2
        t_amp[2:4] = [-0.2, -0.1]
    if "lbbb" in conds:  # discordant ST-T
        st += np.array([-0.1, -0.05, 0.15, 0.2, 0.15, 0.0, -0.1, -0.1])
        t_amp[[0, 6, 7]] = -0.25
        t_amp[2:5] = 0.4
    if "lvh" in conds:
        _lvh(waves, rng)
        st[[0, 6, 7]] -= 0.08
        t_amp[[0, 6, 7]] = -rng.uniform(0.15, 0.25)
    if "sttc" in conds:
        leads = [0, 5, 6, 7] + ([1] if rng.random() < 0.5 else []) + ([3, 4] if rng.random() < 0.3 else [])
        st[leads] -= rng.uniform(0.05, 0.15)
        t_amp[leads] = -np.abs(t_amp[leads]) * rng.uniform(0.5, 1.0)
    for territory in ("mi_anterior", "mi_inferior", "mi_lateral"):
        if territory in conds:
            shift = _MI_ST[territory] * rng.uniform(1.0, 1.4)
            st += shift
            t_amp += 0.5 * np.clip(shift, 0, None)
            if rng.random() < 0.6:  # pathological Q (>= 40 ms)
                waves.append((_ANCHOR_QRS, 0.02, 0.012, -0.3 * _MI_Q[territory]))
    waves.append((_ANCHOR_T, -0.09, 0.04, t_amp))
    anchors, centres, sigmas, amps = zip(*waves)
    return _Morphology(np.array(anchors), np.array(centres, float), np.array(sigmas, float),
                       np.array(amps, float), st, qrs, qt_extra_s=qrs - 0.09)


def _lvh(waves, rng) -> None:
    """Raises QRS voltages so that S(V1) + R(V5) is 3.6-4.8 mV (Sokolow-Lyon)."""
    amps = np.array([w[3] for w in waves if w[0] == _ANCHOR_QRS])
    r_v5, s_v1 = amps[:, 6].max(), -amps[:, 2].min()
    k = rng.uniform(3.6, 4.8) / max(r_v5 + s_v1, 1e-6)
    lateral, right = np.array([0, 5, 6, 7]), np.array([2, 3, 4])
    for anchor, _, _, a in waves:
        if anchor == _ANCHOR_QRS:
            a[lateral] = np.where(a[lateral] > 0, a[lateral] * k, a[lateral])
            a[right] = np.where(a[right] < 0, a[right] * k, a[right])


def _ectopic_morphology(rng, sinus_qrs) -> _Morphology:
    """A premature ventricular beat: no P, one wide QRS, discordant T."""
    qrs = max(rng.uniform(0.13, 0.16), sinus_qrs)
    if rng.random() < 0.5:  # right-ventricular origin (LBBB-like)
        main = np.array([1.1, 0.9, -1.4, -1.6, -0.9, 0.5, 1.2, 1.2])
    else:  # left-ventricular origin (RBBB-like)
        main = np.array([-0.6, 0.8, 1.3, 1.0, 0.6, -0.4, -0.9, -1.0])
    main = main * rng.uniform(0.9, 1.3)
    return _Morphology(np.array([_ANCHOR_QRS, _ANCHOR_T]), np.array([0.5 * qrs, -0.1]),
                       np.array([0.17 * qrs, 0.05]), np.stack([main, -0.35 * main]),
                       np.zeros(len(_BASIS)), qrs, qt_extra_s=qrs - 0.06)


def _add_beats(out, fs, onsets, pr, qt, morph: _Morphology, gain) -> None:
    """Adds beats at continuous ``onsets`` (s) into ``out`` ``(samples, 8)`` in place."""
    n = out.shape[0]
    lo, hi = int(np.floor(_WINDOW[0] * fs)), int(np.ceil(_WINDOW[1] * fs))
    idx = np.round(onsets * fs).astype(np.int64)[:, None] + np.arange(lo, hi)[None, :]  # (B, L)
    t = idx / fs - onsets[:, None]
    anchor_times = np.stack([np.zeros_like(onsets), -np.nan_to_num(pr, nan=0.0), qt], axis=1)  # (B, 3)
    centres = morph.centres[None, :] + anchor_times[:, morph.anchors]  # (B, W)
    z = (t[:, :, None] - centres[:, None, :]) / morph.sigmas
    values = np.exp(-0.5 * z * z) @ morph.amps  # (B, L, 8)
    if np.any(morph.st):
        j_point = morph.qrs_s
        t_peak = qt[:, None] - 0.09
        plateau = expit((t - j_point) / 0.004) * expit((t_peak - t) / 0.02)
        values += plateau[:, :, None] * morph.st
    values *= gain[:, None, None]
    inside = (idx >= 0) & (idx < n)
    np.add.at(out, idx[inside], values[inside])


# --- noise and atrial activity -------------------------------------------------------------

def _f_waves(n, fs, rng) -> np.ndarray:
    """AF fibrillatory waves ``(n, 8)``: 4-9 Hz with drifting frequency and amplitude."""
    t = np.arange(n) / fs
    f0 = rng.uniform(4.5, 8.5)
    drift = np.interp(t, np.linspace(0, t[-1] + 1e-9, 8), rng.uniform(-0.5, 0.5, 8))
    phase = 2 * np.pi * np.cumsum(np.clip(f0 + drift, 4.0, 9.0)) / fs
    amp = rng.uniform(0.05, 0.12) * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t))
    wave = amp * (np.sin(phase) + 0.3 * np.sin(2 * phase + rng.uniform(0, 2 * np.pi)))
    return wave[:, None] * _F_WAVES[None, :]


def _noise(n, fs, leads, rng, noise_mv) -> np.ndarray:
    """Baseline wander + mains hum + broadband noise ``(n, leads)`` in mV."""
    if noise_mv <= 0:
        return np.zeros((n, leads))
    t = np.arange(n)[:, None] / fs
    freqs = rng.uniform(0.05, 0.5, (1, 2 * leads))
    wander = (rng.uniform(1, 4, (1, 2 * leads)) * noise_mv
              * np.sin(2 * np.pi * freqs * t + rng.uniform(0, 2 * np.pi, (1, 2 * leads))))
    out = wander[:, :leads] + wander[:, leads:] + noise_mv * rng.standard_normal((n, leads))
    mains = rng.choice([50.0, 60.0])
    if mains < fs / 2:
        out += 0.5 * noise_mv * rng.uniform(0, 1, (1, leads)) * np.sin(2 * np.pi * mains * t + rng.uniform(0, 6.3))
    return out


def _noise_record(conds, fs, n, projection, rng, noise_mv, return_info):
    """An artefact-dominated record: a faint ECG under motion artefact and EMG bursts."""
    others = conds - {"noise"}
    ecg, info = synthesize_ecg(others or {"normal"}, fs, n / fs, ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6"),
                               rng=rng, noise_mv=0.0, return_info=True)
    leads = projection.shape[1]
    signal = rng.uniform(0.0, 0.25) * (ecg.astype(np.float64) @ projection)
    walk = np.cumsum(rng.standard_normal((n, leads)), axis=0) / np.sqrt(fs)
    walk -= np.linspace(walk[0], walk[-1], n)
    signal += rng.uniform(0.3, 1.0) * walk
    burst = np.repeat(rng.uniform(0.3, 2.0, (int(np.ceil(n / fs)) + 1, 1)), int(np.ceil(fs)), axis=0)[:n]
    emg = rng.standard_normal((n, leads)) * burst * rng.uniform(0.15, 0.4)
    signal += emg + _noise(n, fs, leads, rng, max(noise_mv, 0.02))
    signal = signal.astype(np.float32)
    if not return_info:
        return signal
    info.conditions = tuple(sorted(conds))
    return signal, info
