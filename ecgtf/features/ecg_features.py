"""Hand-made ECG features of one recording (NumPy/SciPy): what a cardiologist measures.

Every record is brought to :data:`FEATURE_RATE_HZ` (100 Hz, polyphase), high-passed at 0.5 Hz,
and cut into beats around the QRS fiducial points of :func:`ecgtf.data.beats.detect_qrs`. From the
per-lead median beat (mV, its PR segment as zero):

- the beat itself, every 20 ms from 0.3 s before to 0.5 s after the QRS (40 values a lead);
- per lead: R (largest positive QRS deflection), S (largest negative), their span, ST level
  (120-160 ms after the fiducial point) and T amplitude (the largest deflection 160-450 ms after);
- per lead, for infarction: Q depth (the most negative value from QRS onset to that lead's R peak,
  mV, 0 when none), Q duration (s below -0.05 mV in that stretch) and the level at the J point
  (the end of the QRS, mV);
- QRS width (s), frontal axis (degrees, from the net QRS of I and aVF), Sokolow-Lyon
  (S V1 + max R V5/V6) and Cornell (R aVL + S V3) voltages (mV), NaN where the leads are absent;
- rhythm: mean and sd of the RR intervals (s), RMSSD (s), the share of successive RR differences
  above 50 ms, beats per 10 s; shortest and longest RR (s), their coefficient of variation, the
  median successive RR difference (s), the share of premature beats (RR below 85 % of the one before);
- beat-to-beat sameness and signal quality: the mean correlation of each beat (all leads) with the
  median beat and the share of beats below 0.8 (ectopy or noise), the record's length (s), its
  amplitude range (1st to 99th percentile, mV, median over leads), the median beat's QRS span as a
  share of that range, and the share of samples at which no lead moves (a saturated or
  detached recording);
- for CinC 2017's "other rhythm" and noise classes (chosen on its single lead; one value a record
  whatever the number of leads, per-lead values taken as their median): the share of power below
  0.5, 0.5-5, 5-15, 15-30 and 30-50 Hz and the spectral entropy (nats) of the unfiltered record;
  RR patterns: the share of successive RR differences that change sign
  (bigeminy alternates), the share of RR more than 20 % off the median, the shortest and longest mean
  of 5 successive RR (s), the odd/even RR mean difference and the 10th/90th RR percentiles (as
  shares of the median RR); the P wave (the median beat 0.3-0.06 s before the QRS, its end-to-end
  line removed): its largest deflection (mV) and as a share of the QRS span, the mean correlation of
  each beat's P window with the median beat's, the P window's sd as a share of the QRS span;
  morphology: the 10th percentile and minimum of the beat correlations, the coefficient of variation
  of the beats' QRS spans, QRS polarity ((R + S) / span: +1 upright, -1 inverted), QRS area / span
  (s); the T wave: the time of the largest deflection 0.12-0.5 s after the QRS (s) and its area /
  QRS span (s).

The features feed :class:`ecgtf.features.gbm.FeatureGBM`, the tree-model view beside the networks.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
from tqdm.auto import tqdm

from ecgtf.data.beats import detect_qrs, qrs_energy
from ecgtf.data.transforms import resample

FEATURE_RATE_HZ = 100.0
HIGHPASS_HZ = 0.5
BEFORE_S, AFTER_S = 0.3, 0.5
BEAT_STEP_S = 0.02
PER_LEAD = ("r_mv", "s_mv", "qrs_span_mv", "st_mv", "t_mv", "q_mv", "q_s", "j_mv")
Q_BELOW_MV = -0.05
GLOBAL = ("qrs_width_s", "axis_deg", "sokolow_lyon_mv", "cornell_mv", "rr_mean_s", "rr_sd_s", "rmssd_s",
          "pnn50", "beats_per_10s", "rr_min_s", "rr_max_s", "rr_cv", "rr_median_diff_s", "premature_share",
          "beat_corr_mean", "beat_corr_low_share", "duration_s", "range_mv", "qrs_to_range", "flat_share",
          "power_below_0.5hz", "power_0.5_5hz", "power_5_15hz", "power_15_30hz", "power_30_50hz", "spectral_entropy",
          "rr_alternation", "rr_off_median_share", "rr_local_min_s", "rr_local_max_s", "rr_odd_even_diff",
          "rr_p10_ratio", "rr_p90_ratio", "p_mv", "p_to_qrs", "p_beat_corr", "p_window_sd_to_qrs",
          "beat_corr_p10", "beat_corr_min", "qrs_span_cv", "qrs_polarity", "qrs_area_to_span",
          "t_peak_s", "t_area_to_span")
BEAT_CORR_LOW = 0.8
PREMATURE = 0.85
FLAT_MV = 1e-4
POWER_BANDS_HZ = ((0.0, 0.5), (0.5, 5.0), (5.0, 15.0), (15.0, 30.0), (30.0, np.inf))  # 50 Hz: Nyquist
RR_OFF_MEDIAN = 0.2
RR_LOCAL_BEATS = 5
P_WINDOW_S = (0.3, 0.06)  # before the fiducial point


def _idx(seconds: float) -> int:
    return int(round(seconds * FEATURE_RATE_HZ))


def feature_names(lead_names) -> list[str]:
    """Names of the values :func:`ecg_features` returns, in order, for these leads."""
    names = [f"beat_{lead}_{t:+.2f}s" for lead in lead_names
             for t in np.arange(-BEFORE_S, AFTER_S - 1e-9, BEAT_STEP_S)]
    names += [f"{k}_{lead}" for k in PER_LEAD for lead in lead_names]
    return names + list(GLOBAL)


def ecg_features(signal_mv: np.ndarray, sampling_rate: float, lead_names) -> np.ndarray:
    """The features of one record.

    Args:
        signal_mv: ``(samples, leads)`` in mV (NaN samples count as 0).
        sampling_rate: Hz of ``signal_mv``.
        lead_names: one name per column (``I``, ``aVF``, ``V1``... select the voltage criteria).

    Returns:
        float32 vector, ``len(feature_names(lead_names))`` long; NaN where a value cannot be
        measured (no beat found, a lead the criterion needs is absent).
    """
    x = np.nan_to_num(np.asarray(signal_mv, dtype=np.float64))
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] != len(lead_names):
        raise ValueError(f"{x.shape[1]} signal columns but {len(lead_names)} lead names")
    x = resample(x, sampling_rate, FEATURE_RATE_HZ).astype(np.float64)
    n_leads, pre, n = x.shape[1], _idx(BEFORE_S), _idx(BEFORE_S) + _idx(AFTER_S)
    unfiltered = x
    if len(x) > 12:
        sos = scipy.signal.butter(2, HIGHPASS_HZ, btype="high", fs=FEATURE_RATE_HZ, output="sos")
        x = scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=min(3 * 5, len(x) - 1))
    peaks = detect_qrs(x, FEATURE_RATE_HZ, energy=qrs_energy(x, FEATURE_RATE_HZ)) if len(x) > 12 else np.zeros(0, int)
    whole = peaks[(peaks >= pre) & (peaks - pre + n <= len(x))]
    if len(whole) == 0:
        return np.full(len(feature_names(lead_names)), np.nan, dtype=np.float32)
    beats = x[whole[:, None] - pre + np.arange(n)[None, :]]
    template = np.median(beats, axis=0)
    beat = template - np.median(template[pre - _idx(0.2):pre - _idx(0.08)], axis=0, keepdims=True)  # PR segment = 0
    qrs = beat[pre - _idx(0.08):pre + _idx(0.1)]
    r, s = qrs.max(axis=0), qrs.min(axis=0)
    st = beat[pre + _idx(0.12):pre + _idx(0.16)].mean(axis=0)
    t_win = beat[pre + _idx(0.16):pre + _idx(0.45)]
    t = t_win[np.abs(t_win).argmax(axis=0), np.arange(n_leads)]

    lead = {name.lower(): k for k, name in enumerate(lead_names)}

    def pick(values, name):
        return values[lead[name]] if name in lead else np.nan

    slope = np.abs(np.diff(beat, axis=0)).sum(axis=1)[pre - _idx(0.1):pre + _idx(0.12)]
    steep = np.flatnonzero(slope > 0.3 * slope.max()) if slope.max() > 0 else np.zeros(0, int)
    width = len(steep) / FEATURE_RATE_HZ if len(steep) else np.nan
    onset = pre - _idx(0.1) + steep[0] if len(steep) else pre - _idx(0.04)
    j_point = pre - _idx(0.1) + steep[-1] + 1 if len(steep) else pre + _idx(0.04)
    r_peak = pre - _idx(0.08) + qrs.argmax(axis=0)
    sample = np.arange(len(beat))[:, None]
    before_r = (sample >= min(onset, pre)) & (sample <= r_peak[None, :])
    q = np.minimum(np.where(before_r, beat, np.inf).min(axis=0), 0.0)
    q_s = (before_r & (beat < Q_BELOW_MV)).sum(axis=0) / FEATURE_RATE_HZ
    j = beat[j_point]
    net = qrs.sum(axis=0)
    axis = np.degrees(np.arctan2(pick(net, "avf"), pick(net, "i")))
    sokolow = -pick(s, "v1") + np.fmax(pick(r, "v5"), pick(r, "v6"))
    cornell = pick(r, "avl") - pick(s, "v3")
    rr = np.diff(peaks) / FEATURE_RATE_HZ
    drr = np.abs(np.diff(rr))
    rhythm = [rr.mean() if len(rr) else np.nan, rr.std() if len(rr) > 1 else np.nan,
              np.sqrt(np.mean(drr ** 2)) if len(drr) else np.nan, np.mean(drr > 0.05) if len(drr) else np.nan,
              10.0 * len(peaks) / (len(x) / FEATURE_RATE_HZ)]
    if len(rr):
        rhythm += [rr.min(), rr.max(), rr.std() / rr.mean(),
                   np.median(drr) if len(drr) else np.nan, np.mean(rr[1:] < PREMATURE * rr[:-1]) if len(rr) > 1 else np.nan]
    else:
        rhythm += [np.nan] * 5
    corr = _correlations(beats, template)
    spread = np.percentile(x, 99, axis=0) - np.percentile(x, 1, axis=0)
    span = (r - s)[spread > 0] / spread[spread > 0]
    quality = [corr.mean(), np.mean(corr < BEAT_CORR_LOW), len(x) / FEATURE_RATE_HZ, np.median(spread),
               np.median(span) if len(span) else np.nan, np.mean(np.abs(np.diff(x, axis=0)).max(axis=1) < FLAT_MV)]
    step = _idx(BEAT_STEP_S)
    out = np.concatenate([beat[::step].T.ravel(), r, s, r - s, st, t, q, q_s, j,
                          [width, axis, sokolow, cornell], rhythm, quality, _power_shares(unfiltered),
                          _rr_patterns(rr), _p_wave(beats, template, r - s), _morphology(beats, template, corr, r - s),
                          _t_wave(template, r - s)])
    return out.astype(np.float32)


def _power_shares(x: np.ndarray) -> list:
    """Share of the power in each of :data:`POWER_BANDS_HZ` and the spectral entropy (Welch), medians over leads."""
    f, p = scipy.signal.welch(x, fs=FEATURE_RATE_HZ, nperseg=min(256, len(x)), axis=0)
    p = p / np.maximum(p.sum(axis=0, keepdims=True), 1e-12)
    shares = [np.median(p[(f >= lo) & (f < hi)].sum(axis=0)) for lo, hi in POWER_BANDS_HZ]
    return shares + [np.median(-(p * np.log(p + 1e-12)).sum(axis=0))]


def _rr_patterns(rr: np.ndarray) -> list:
    """Alternation, outliers, local extremes and spread of the RR intervals (s); NaN under 4 intervals."""
    if len(rr) < 4:
        return [np.nan] * 7
    d, med = np.diff(rr), np.median(rr)
    local = rr
    if len(rr) >= RR_LOCAL_BEATS:
        local = np.convolve(rr, np.ones(RR_LOCAL_BEATS) / RR_LOCAL_BEATS, mode="valid")
    return [np.mean(d[1:] * d[:-1] < 0), np.mean(np.abs(rr - med) > RR_OFF_MEDIAN * med), local.min(), local.max(),
            abs(rr[::2].mean() - rr[1::2].mean()) / med, np.percentile(rr, 10) / med, np.percentile(rr, 90) / med]


def _p_wave(beats: np.ndarray, template: np.ndarray, qrs_span: np.ndarray) -> list:
    """The P window of the median beat, end-to-end line removed, and how alike each beat's P window is."""
    pre = _idx(BEFORE_S)
    window = slice(pre - _idx(P_WINDOW_S[0]), pre - _idx(P_WINDOW_S[1]))
    p_template = template[window]
    p = p_template - np.linspace(p_template[:2].mean(axis=0), p_template[-2:].mean(axis=0), len(p_template))
    p_mv = p[np.abs(p).argmax(axis=0), np.arange(p.shape[1])]
    span = np.maximum(qrs_span, 1e-6)
    return [np.median(p_mv), np.median(np.abs(p_mv) / span), _correlations(beats[:, window], p_template, flat=0.0).mean(),
            beats[:, window].std(axis=1).mean() / max(np.median(qrs_span), 1e-6)]


def _morphology(beats: np.ndarray, template: np.ndarray, corr: np.ndarray, qrs_span: np.ndarray) -> list:
    """Spread of the beats' shapes and sizes, QRS polarity and area (from the median beat, not baselined)."""
    pre = _idx(BEFORE_S)
    window = slice(pre - _idx(0.08), pre + _idx(0.1))
    spans = (beats[:, window].max(axis=1) - beats[:, window].min(axis=1)).mean(axis=1)
    qrs = template[window]
    span = np.maximum(qrs_span, 1e-6)
    return [np.percentile(corr, 10), corr.min(), spans.std() / max(spans.mean(), 1e-6),
            np.median((qrs.max(axis=0) + qrs.min(axis=0)) / span),
            np.median(np.abs(qrs).sum(axis=0) / FEATURE_RATE_HZ / span)]


def _t_wave(template: np.ndarray, qrs_span: np.ndarray) -> list:
    """Time (s after the fiducial point) of the largest deflection 0.12-0.5 s after it, and its area / QRS span (s)."""
    pre = _idx(BEFORE_S)
    t = template[pre + _idx(0.12):pre + _idx(AFTER_S)] - template[pre - _idx(0.12):pre - _idx(0.06)].mean(axis=0)
    span = np.maximum(qrs_span, 1e-6)
    return [np.median(np.abs(t).argmax(axis=0) / FEATURE_RATE_HZ + 0.12),
            np.median(np.abs(t).sum(axis=0) / FEATURE_RATE_HZ / span)]


def _correlations(beats: np.ndarray, template: np.ndarray, flat: float = 1.0) -> np.ndarray:
    """Pearson correlation of every ``(samples, leads)`` beat with the template, leads joined (``flat`` when flat)."""
    a = beats.reshape(len(beats), -1)
    a = a - a.mean(axis=1, keepdims=True)
    b = template.ravel() - template.mean()
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b)
    return np.where(norm > 0, a @ b / np.where(norm > 0, norm, 1.0), flat)


def feature_matrix(signals, sampling_rate: float, lead_names, *, progress: bool = True,
                   desc: str = "ECG features", total: int | None = None) -> np.ndarray:
    """:func:`ecg_features` of every signal of an iterable (``(N, n_features)`` float32), with a progress bar.

    A generator is read one signal at a time (``total`` sizes its bar), so the signals are never all in memory.
    """
    rows = [ecg_features(s, sampling_rate, lead_names)
            for s in tqdm(signals, desc=desc, unit="rec", disable=not progress, mininterval=1.0, total=total)]
    return np.stack(rows) if rows else np.zeros((0, len(feature_names(lead_names))), np.float32)
