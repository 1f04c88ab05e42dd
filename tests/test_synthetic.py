"""Tests for ecgtf.data.synthetic: each pathology is measured on the signal itself.

The helpers below detect QRS complexes from the slope envelope of all leads, then
measure PR, QRS width, ST level, voltages, RR intervals and beat similarity, and
every test compares the pathology against ``normal`` so it can fail.
"""


import numpy as np
import pytest
import scipy.signal

from ecgtf.data.synthetic import CONDITIONS, LEADS_12, synthesize_ecg

FS = 500.0
LEAD = {name: i for i, name in enumerate(LEADS_12)}


# --- measurement helpers ---------------------------------------------------------------

def qrs_marks(x, fs, frac=0.05):
    """QRS onsets and offsets (sample indices) from the summed absolute slope of all leads."""
    sos = scipy.signal.butter(2, 40, fs=fs, output="sos")
    slope = np.abs(np.gradient(scipy.signal.sosfiltfilt(sos, x, axis=0), axis=0)).sum(axis=1)
    win = max(1, int(0.01 * fs))
    slope = np.convolve(slope, np.ones(win) / win, mode="same")
    peaks, _ = scipy.signal.find_peaks(slope, distance=int(0.25 * fs), height=0.4 * np.percentile(slope, 99))
    span = int(0.2 * fs)
    onsets, offsets = [], []
    for p in peaks:
        if p - span < 0 or p + span >= len(slope):
            continue
        before = np.flatnonzero(slope[p - span:p] < frac * slope[p])
        after = np.flatnonzero(slope[p:p + span] < frac * slope[p])
        if before.size and after.size:
            onsets.append(p - span + before[-1])
            offsets.append(p + after[0])
    return np.array(onsets), np.array(offsets)


def qrs_width_ms(x, fs):
    on, off = qrs_marks(x, fs)
    return 1000 * np.median(off - on) / fs


def r_peaks(x, fs):
    """R peaks of a single lead: peaks of the 5-30 Hz band-passed signal's energy."""
    sos = scipy.signal.butter(2, [5, 30], btype="band", fs=fs, output="sos")
    energy = scipy.signal.sosfiltfilt(sos, x) ** 2
    peaks, _ = scipy.signal.find_peaks(energy, distance=int(0.25 * fs), height=0.2 * np.percentile(energy, 99.5))
    return peaks


def heart_rate(x, fs):
    return 60.0 / np.median(np.diff(r_peaks(x, fs)) / fs)


def rr_cv(x, fs):
    rr = np.diff(r_peaks(x, fs)) / fs
    return rr.std() / rr.mean()


def pr_interval_ms(x, fs):
    """Median P onset to QRS onset (lead II): the last P bump before each QRS."""
    on, _ = qrs_marks(x, fs)
    lead = x[:, LEAD["II"]]
    out = []
    for o in on:
        lo = o - int(0.40 * fs)
        if lo < 0:
            continue
        base = lead[o - int(0.01 * fs)]
        seg = lead[lo:o - int(0.02 * fs)] - base
        peaks, _ = scipy.signal.find_peaks(seg, prominence=0.04)
        if not peaks.size:
            continue
        p = peaks[-1]
        below = np.flatnonzero(seg[:p] < 0.1 * seg[p])
        if below.size:
            out.append(o - (lo + below[-1]))
    return 1000 * np.median(out) / fs


def st_levels(x, fs):
    """Median ST level (mV) at J+60 ms per lead, relative to the PR segment."""
    on, off = qrs_marks(x, fs)
    keep = (on > int(0.03 * fs)) & (off + int(0.06 * fs) < len(x))
    base = x[on[keep] - int(0.02 * fs)]
    st = x[off[keep] + int(0.06 * fs)]
    return np.median(st - base, axis=0)


def beat_similarity(x, fs):
    """Mean correlation between consecutive detected beats (one lead, band-passed)."""
    sos = scipy.signal.butter(2, [1, 40], btype="band", fs=fs, output="sos")
    y = scipy.signal.sosfiltfilt(sos, x)
    half = int(0.2 * fs)
    peaks = [p for p in r_peaks(x, fs) if half <= p < len(x) - half]
    beats = np.stack([y[p - half:p + half] for p in peaks])
    return float(np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(beats[:-1], beats[1:])]))


def ecg(conditions, seed, fs=FS, duration=10.0, leads=LEADS_12, noise_mv=0.005):
    return synthesize_ecg(conditions, fs, duration, leads, rng=seed, noise_mv=noise_mv).astype(np.float64)


SEEDS = (0, 1, 2)


# --- shapes, units, determinism -----------------------------------------------------------

def test_shapes_dtype_and_millivolt_range():
    x = synthesize_ecg({"normal"}, 500, 10, rng=0)
    assert x.shape == (5000, 12) and x.dtype == np.float32
    single = synthesize_ecg({"af"}, 300, 61.5, ("ECG",), rng=0)
    assert single.shape == (18450, 1) and single.dtype == np.float32
    odd = synthesize_ecg({"st"}, 257, 10, ["I", "AVR", "v6"], rng=0)
    assert odd.shape == (2570, 3)
    clean = ecg({"normal"}, 0, noise_mv=0.0)
    r_amp = clean[:, LEAD["II"]].max() - np.median(clean[:, LEAD["II"]])
    assert 0.5 <= r_amp <= 2.0  # mV


def test_limb_leads_follow_einthoven():
    x = ecg({"mi_inferior"}, 0, noise_mv=0.0)
    np.testing.assert_allclose(x[:, LEAD["III"]], x[:, LEAD["II"]] - x[:, LEAD["I"]], atol=1e-5)
    np.testing.assert_allclose(x[:, LEAD["aVR"]], -(x[:, LEAD["I"]] + x[:, LEAD["II"]]) / 2, atol=1e-5)


def test_same_seed_same_signal_and_different_seed_differs():
    a = synthesize_ecg({"af", "pvc"}, 500, 5, rng=7)
    b = synthesize_ecg({"af", "pvc"}, 500, 5, rng=np.random.default_rng(7))
    c = synthesize_ecg({"af", "pvc"}, 500, 5, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_conditions_and_leads_raise():
    with pytest.raises(ValueError, match="valid conditions: normal"):
        synthesize_ecg({"vfib"}, 500, 1)
    with pytest.raises(ValueError, match="cannot be combined"):
        synthesize_ecg({"sb", "st"}, 500, 1)
    with pytest.raises(ValueError, match="valid leads"):
        synthesize_ecg({"normal"}, 500, 1, ("I", "X7"))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_gives_finite_signal(condition):
    x = synthesize_ecg({condition}, 100, 10, rng=0)
    assert x.shape == (1000, 12) and np.isfinite(x).all() and np.ptp(x, axis=0).min() > 0.05


def test_info_matches_measurement():
    x, info = synthesize_ecg({"1davb"}, FS, 10, rng=0, noise_mv=0.0, return_info=True)
    assert abs(pr_interval_ms(x, FS) - 1000 * np.nanmedian(info.pr_s)) < 25
    assert abs(heart_rate(x[:, LEAD["II"]], FS) - info.heart_rate_bpm) < 5
    assert set(info.beat_types) == {"N"} and info.r_peaks_s.size == info.qrs_onsets_s.size


# --- rhythm ----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_heart_rate_brady_normal_tachy(seed):
    rate = {c: heart_rate(ecg({c}, seed)[:, LEAD["II"]], FS) for c in ("sb", "normal", "st")}
    assert rate["sb"] < 60 <= rate["normal"] <= 100 < rate["st"]


@pytest.mark.parametrize("seed", SEEDS)
def test_af_rr_irregular_and_sinus_regular(seed):
    cv_af = rr_cv(ecg({"af"}, seed, fs=300, duration=60, leads=("ECG",))[:, 0], 300)
    cv_sinus = rr_cv(ecg({"normal"}, seed, fs=300, duration=60, leads=("ECG",))[:, 0], 300)
    assert cv_af > 0.12 and cv_sinus < 0.08


@pytest.mark.parametrize("seed", SEEDS)
def test_first_degree_av_block_prolongs_pr(seed):
    pr_block = pr_interval_ms(ecg({"1davb"}, seed), FS)
    pr_normal = pr_interval_ms(ecg({"normal"}, seed), FS)
    assert pr_block > 200 and 110 <= pr_normal <= 205


def test_pvc_gives_premature_wide_beats():
    def premature_wide(x):
        on, off = qrs_marks(x, FS)
        width = 1000 * (off - on)[1:] / FS
        rr = np.diff(on) / FS
        return np.sum((width >= 120) & (rr < 0.8 * np.median(rr)))

    assert premature_wide(ecg({"pvc"}, 0, duration=20)) >= 1
    assert premature_wide(ecg({"normal"}, 0, duration=20)) == 0


# --- QRS -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_bundle_branch_blocks_widen_qrs(seed):
    assert qrs_width_ms(ecg({"normal"}, seed), FS) < 110
    assert qrs_width_ms(ecg({"rbbb"}, seed), FS) >= 120
    assert qrs_width_ms(ecg({"lbbb"}, seed), FS) >= 120


def _qrs_window(x, lead):
    on, off = qrs_marks(x, FS)
    o, f = on[len(on) // 2], off[len(off) // 2]
    seg = x[o:f + 1, LEAD[lead]]
    return seg - x[o - int(0.01 * FS), LEAD[lead]]


def test_rbbb_rsr_prime_in_v1_and_lbbb_qs_in_v1():
    v1 = _qrs_window(ecg({"rbbb"}, 0, noise_mv=0.0), "V1")
    peaks, _ = scipy.signal.find_peaks(v1, prominence=0.1)
    assert len(peaks) == 2 and v1[peaks[1]] > v1[peaks[0]] > 0  # r then taller R'
    assert v1[peaks[0]:peaks[1]].min() < 0  # S between them
    normal_v1 = _qrs_window(ecg({"normal"}, 0, noise_mv=0.0), "V1")
    assert len(scipy.signal.find_peaks(normal_v1, prominence=0.1)[0]) <= 1
    qs = _qrs_window(ecg({"lbbb"}, 0, noise_mv=0.0), "V1")
    assert qs.min() < -0.5 and qs.max() < 0.2 * abs(qs.min())


@pytest.mark.parametrize("seed", SEEDS)
def test_lvh_meets_sokolow_lyon_voltage(seed):
    def sokolow(x):
        return -_qrs_window(x, "V1").min() + _qrs_window(x, "V5").max()

    assert sokolow(ecg({"lvh"}, seed)) > 3.5
    assert sokolow(ecg({"normal"}, seed)) < 3.5


# --- ST-T ------------------------------------------------------------------------------

MI_LEADS = {
    "mi_anterior": (("V1", "V2", "V3", "V4"), ("II", "III", "aVF")),
    "mi_inferior": (("II", "III", "aVF"), ("I", "aVL")),
    "mi_lateral": (("I", "aVL", "V5", "V6"), ("III", "aVF")),
}


@pytest.mark.parametrize("territory", sorted(MI_LEADS))
@pytest.mark.parametrize("seed", SEEDS)
def test_mi_st_elevation_in_territory_and_reciprocal_depression(territory, seed):
    elevated, reciprocal = MI_LEADS[territory]
    st = st_levels(ecg({territory}, seed), FS)
    normal = st_levels(ecg({"normal"}, seed), FS)
    assert all(st[LEAD[name]] >= 0.15 for name in elevated), st
    assert all(st[LEAD[name]] <= -0.05 for name in reciprocal), st
    assert np.all(np.abs(normal) < 0.1), normal


def test_sttc_inverts_lateral_t_waves():
    def t_peak(x, lead):
        on, off = qrs_marks(x, FS)
        vals = []
        for o, f in zip(on[:-1], off[:-1]):
            seg = x[f + int(0.05 * FS):f + int(0.35 * FS), LEAD[lead]] - x[o - int(0.02 * FS), LEAD[lead]]
            vals.append(seg[np.argmax(np.abs(seg))])
        return np.median(vals)

    for lead in ("V5", "V6"):
        assert t_peak(ecg({"sttc"}, 0), lead) < -0.05
        assert t_peak(ecg({"normal"}, 0), lead) > 0.05


# --- noise -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_noise_record_lacks_beat_structure(seed):
    noisy = ecg({"noise"}, seed, fs=300, duration=30, leads=("ECG",), noise_mv=0.02)[:, 0]
    clean = ecg({"normal"}, seed, fs=300, duration=30, leads=("ECG",), noise_mv=0.02)[:, 0]
    assert beat_similarity(clean, 300) > 0.8
    assert beat_similarity(noisy, 300) < 0.5
