"""QRS detection against expert beat labels: ecgtf's detector vs wfdb's XQRS on MIT-BIH.

Usage:
    python benchmarks/bench_qrs.py [--data-dir ../shared/data/mitdb] [--record 100] [--repeats 3]
                                   [--resample-hz 100] [--out benchmarks/results/qrs_mitdb100.json]

Reads one MIT-BIH record (``RECORD.hea/.dat/.atr``), keeps the reference annotations whose
symbol is a beat label (normal, bundle-branch, ectopic, paced, fusion, unclassifiable; not
rhythm changes ``+``, noise ``~``, artefacts ``|``, comments ``"`` ...), and scores
``ecgtf.data.beats.detect_qrs`` and ``wfdb.processing.xqrs_detect`` with
``wfdb.processing.compare_annotations`` (a detection within ``--tolerance-s``, 150 ms by
default, of a reference beat is a true positive). Each lead is scored alone (a
``(samples, 1)`` input for ours); ours also on all leads together (XQRS takes one lead).
Both run in this process, one after the other, each timed over ``--repeats`` calls after
one untimed call. ``--resample-hz`` first resamples the record (polyphase, SciPy) and the
reference positions, e.g. to the 100 Hz the PTB-XL median beats are computed at. Prints a
table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

# MIT-BIH annotation symbols that label a beat (every other symbol marks a rhythm change,
# noise, an artefact, a comment, a wave boundary...).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
TARGET = 0.995  # sensitivity and positive predictivity a detector must reach on every lead


def reference_beats(annotation) -> np.ndarray:
    """Sample indices of the annotations whose symbol is a beat label."""
    keep = np.array([s in BEAT_SYMBOLS for s in annotation.symbol], dtype=bool)
    return np.asarray(annotation.sample)[keep].astype(np.int64)


def score(reference: np.ndarray, detected: np.ndarray, sampling_rate: float, tolerance_s: float) -> dict:
    """Se, +P, TP/FP/FN and the detection - reference offsets (ms) of the matched beats."""
    from wfdb.processing import compare_annotations

    window = int(round(tolerance_s * sampling_rate))
    c = compare_annotations(reference, np.asarray(detected, dtype=np.int64), window)
    offsets_ms = (np.asarray(detected)[c.matched_test_inds] - reference[c.matched_ref_inds]) / sampling_rate * 1e3
    return {
        "sensitivity": float(c.sensitivity), "positive_predictivity": float(c.positive_predictivity),
        "tp": int(c.tp), "fp": int(c.fp), "fn": int(c.fn), "n_reference": int(len(reference)),
        "n_detected": int(len(detected)),
        "offset_ms_median": float(np.median(offsets_ms)) if len(offsets_ms) else None,
        "offset_ms_max_abs": float(np.abs(offsets_ms).max()) if len(offsets_ms) else None,
    }


def timed(fn, repeats: int):
    """(result of an untimed first call, seconds per call over ``repeats`` further calls)."""
    result = fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return result, (time.perf_counter() - start) / max(repeats, 1)


def detectors(signal: np.ndarray, sampling_rate: float) -> dict:
    """Name -> (detector, lead label, zero-argument call) for every scored combination."""
    from wfdb.processing import xqrs_detect

    from ecgtf.data.beats import detect_qrs

    runs = {}
    for lead in range(signal.shape[1]):
        one = np.ascontiguousarray(signal[:, lead:lead + 1])
        runs[f"ecgtf/lead{lead}"] = ("ecgtf", f"lead{lead}", lambda one=one: detect_qrs(one, sampling_rate))
        runs[f"xqrs/lead{lead}"] = ("xqrs", f"lead{lead}",
                                    lambda one=one: xqrs_detect(one[:, 0], sampling_rate, verbose=False))
    runs["ecgtf/all_leads"] = ("ecgtf", "all_leads", lambda: detect_qrs(signal, sampling_rate))
    return runs


def verdict(rows: list, n_leads: int) -> dict:
    """Which detectors reach TARGET on every single lead, and which of those is faster."""
    out = {}
    for name in ("ecgtf", "xqrs"):
        single = [r for r in rows if r["detector"] == name and r["lead"].startswith("lead")]
        out[name] = {
            "reaches_target_every_lead": len(single) == n_leads and all(
                r["sensitivity"] >= TARGET and r["positive_predictivity"] >= TARGET for r in single),
            "seconds_per_run_mean_single_lead": float(np.mean([r["seconds_per_run"] for r in single])),
        }
    out["xqrs_over_ecgtf_time_ratio"] = (out["xqrs"]["seconds_per_run_mean_single_lead"]
                                         / out["ecgtf"]["seconds_per_run_mean_single_lead"])
    passing = [n for n in ("ecgtf", "xqrs") if out[n]["reaches_target_every_lead"]]
    out["keep"] = min(passing, key=lambda n: out[n]["seconds_per_run_mean_single_lead"]) if passing else None
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data/mitdb")
    parser.add_argument("--record", default="100")
    parser.add_argument("--tolerance-s", type=float, default=0.15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--resample-hz", type=float, default=None,
                        help="resample the record (and the reference positions) to this rate first")
    parser.add_argument("--out", default="benchmarks/results/qrs_mitdb100.json")
    args = parser.parse_args(argv)

    import wfdb

    path = os.path.join(args.data_dir, args.record)
    record = wfdb.rdrecord(path)
    reference = reference_beats(wfdb.rdann(path, "atr"))
    fs = float(record.fs)
    signal = np.asarray(record.p_signal, dtype=np.float64)  # mV
    if args.resample_hz and args.resample_hz != fs:
        from fractions import Fraction

        import scipy.signal

        ratio = Fraction(args.resample_hz / fs).limit_denominator(1000)
        signal = scipy.signal.resample_poly(signal, ratio.numerator, ratio.denominator, axis=0)
        reference = np.round(reference * args.resample_hz / fs).astype(np.int64)
        fs = float(args.resample_hz)
    rows = []
    for key, (name, lead, call) in detectors(signal, fs).items():
        found, seconds = timed(call, args.repeats)
        rows.append({"detector": name, "lead": lead,
                     "lead_name": record.sig_name[int(lead[4:])] if lead.startswith("lead") else "+".join(record.sig_name),
                     **score(reference, found, fs, args.tolerance_s), "seconds_per_run": seconds})

    result = {
        "record": args.record, "sampling_rate": fs, "native_sampling_rate": float(record.fs), "samples": int(signal.shape[0]), "leads": list(record.sig_name),
        "tolerance_s": args.tolerance_s, "repeats": args.repeats, "target": TARGET,
        "beat_symbols": "".join(sorted(BEAT_SYMBOLS)), "wfdb_version": wfdb.__version__,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": rows, "verdict": verdict(rows, signal.shape[1]),
    }
    print(f"MIT-BIH {args.record}: {len(reference)} reference beats, {fs:g} Hz (recorded at {record.fs:g}), "
          f"tolerance {args.tolerance_s * 1e3:g} ms")
    print(f"{'detector':<8} {'lead':<10} {'Se %':>7} {'+P %':>7} {'TP':>5} {'FP':>4} {'FN':>4} "
          f"{'off med/max ms':>15} {'s/run':>7}")
    for r in rows:
        print(f"{r['detector']:<8} {r['lead_name']:<10} {100 * r['sensitivity']:7.2f} "
              f"{100 * r['positive_predictivity']:7.2f} {r['tp']:5d} {r['fp']:4d} {r['fn']:4d} "
              f"{r['offset_ms_median']:7.1f}/{r['offset_ms_max_abs']:<7.1f} {r['seconds_per_run']:7.3f}")
    v = result["verdict"]
    print(f"xqrs / ecgtf time per single-lead run: {v['xqrs_over_ecgtf_time_ratio']:.1f}x; "
          f"reach {100 * TARGET:g}% on every lead: ecgtf {v['ecgtf']['reaches_target_every_lead']}, "
          f"xqrs {v['xqrs']['reaches_target_every_lead']}; keep: {v['keep']}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
