"""Filling the leads a printout does not show, so that any signal model can read the record.

A 3x4 page shows each lead for 2.5 s (lead II often for 10 s). Signal models take whole
records: their median beats, windows and rhythm measurements expect every lead throughout. So
the unshown stretches are filled from what is shown, beat by beat: the QRS complexes are found
over the whole strip (on the leads shown at each moment), each lead's median beat is taken over
its own complete beats, and that beat is laid at every QRS of the strip where the lead is not
shown, on the lead's median level between beats. Rhythm (RR intervals) comes from the page;
each lead's shape from its own panel. Shown samples are never changed.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.signal

from ecgtf.data.beats import QRS_BAND_HZ, detect_qrs

BEFORE_S = 0.25
AFTER_S = 0.45


def _segments(shown: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], shown.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def shown_energy(signal_mv: np.ndarray, sampling_rate: float) -> np.ndarray:
    """QRS band energy summed over the leads shown at each sample; each shown stretch is filtered on
    its own, so the edges of a panel do not look like beats."""
    sos = scipy.signal.butter(2, QRS_BAND_HZ, btype="band", fs=sampling_rate, output="sos")
    energy = np.zeros(len(signal_mv))
    count = np.zeros(len(signal_mv))
    edge = int(round(0.04 * sampling_rate))
    for lead in signal_mv.T:
        for a, b in _segments(~np.isnan(lead)):
            if b - a < 3 * edge + 16:
                continue
            band = scipy.signal.sosfiltfilt(sos, lead[a:b] - np.median(lead[a:b]))
            band[:edge] = band[-edge:] = 0.0
            # Each stretch scaled to its own QRS height, so small limb-lead complexes count as
            # much as tall chest-lead ones.
            energy[a:b] += band ** 2 / (np.quantile(band ** 2, 0.99) + 1e-12)
            count[a:b] += 1
    return energy / np.maximum(count, 1)


def fill_unshown(signal_mv: np.ndarray, sampling_rate: float) -> tuple[np.ndarray, dict]:
    """``(filled, found)``: ``signal_mv`` (samples, leads; NaN where not shown) with every NaN filled,
    and what was used (beats found, per-lead beats in the median, leads filled flat).

    Raises:
        ValueError: a lead has no shown sample at all.
    """
    x = np.asarray(signal_mv, dtype=np.float64)
    shown = ~np.isnan(x)
    if shown.all():
        return x.astype(np.float32), {"filled": False}
    empty = [i for i in range(x.shape[1]) if not shown[:, i].any()]
    if empty:
        raise ValueError(f"lead(s) {empty} show no sample; nothing to fill them from")
    fs = float(sampling_rate)
    whole = shown.all(axis=0)
    # A lead shown throughout (a rhythm strip) times the beats; otherwise the leads shown at each moment.
    qrs = detect_qrs(x[:, whole], fs) if whole.any() else detect_qrs(np.nan_to_num(x), fs, energy=shown_energy(x, fs))
    pre, post = int(round(BEFORE_S * fs)), int(round(AFTER_S * fs))
    if len(qrs) > 1:
        rr = int(np.median(np.diff(qrs)))
        pre, post = min(pre, int(0.4 * rr)), min(post, int(0.6 * rr))
    out = x.copy()
    beats_used, flat = [], []
    for i in range(x.shape[1]):
        level = float(np.median(x[shown[:, i], i]))
        col = out[:, i]
        if shown[:, i].all():
            beats_used.append(None)
            continue
        # Beats whose QRS is shown, even if the panel cuts the P or T wave: the median over them,
        # sample by sample, of what is shown (the lead's level where none shows it).
        qrs_pre, qrs_post = int(round(0.06 * fs)), int(round(0.1 * fs))
        inside = [q for q in qrs if q - qrs_pre >= 0 and q + qrs_post <= len(x) and shown[q - qrs_pre:q + qrs_post, i].all()]
        missing = ~shown[:, i]
        col[missing] = level
        if not inside:
            flat.append(i)
            beats_used.append(0)
            continue
        windows = np.full((len(inside), pre + post), np.nan)
        for k, q in enumerate(inside):
            lo, hi = max(q - pre, 0), min(q + post, len(x))
            windows[k, lo - (q - pre):hi - (q - pre)] = x[lo:hi, i]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a sample no beat shows
            template = np.nanmedian(windows, axis=0)
        template[np.isnan(template)] = level
        for q in qrs:
            a, b = q - pre, q + post
            lo, hi = max(a, 0), min(b, len(x))
            put = missing[lo:hi]
            col[lo:hi][put] = template[lo - a:hi - a][put]
        beats_used.append(len(inside))
    return out.astype(np.float32), {"filled": True, "qrs": int(len(qrs)), "beats_per_lead": beats_used,
                                    "flat_leads": flat}
