#!/usr/bin/env python
"""Which groups of ECG measurements help the trees, judged without touching any test share.

    python benchmarks/bench_feature_groups.py --data-root ../shared/data \
        --out benchmarks/results/feature_groups_cinc2017_dev.json

CinC 2017 ``af4``: the records that seed 0's split (``bench_real_data.py --only cinc2017_af4``,
10 % validation, 20 % test) uses for training and validation are cross-validated (``--folds``
stratified folds, ``--repeats`` shuffles); seed 0's test share is never read. The features view's
trees (:class:`ecgtf.features.gbm.FeatureGBM`, its fixed settings) are fitted on the measurements
of :mod:`ecgtf.features.ecg_features` with some groups blanked out (a blank column is one the
trees never see): the measurements before the CinC 2017 groups were added, those plus each group
alone, and all of them. The JSON holds ``cinc2017_f1`` and the per-class F1 of every variant
(mean over the repeats of the out-of-fold predictions' score), written after each variant: a rerun
goes on from the last finished one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

# the measurements added for CinC 2017's "other rhythm" and noise classes, by name
GROUPS = {
    "spectrum": ("power_below_0.5hz", "power_0.5_5hz", "power_5_15hz", "power_15_30hz", "power_30_50hz",
                 "spectral_entropy"),
    "rr_patterns": ("rr_alternation", "rr_off_median_share", "rr_local_min_s", "rr_local_max_s",
                    "rr_odd_even_diff", "rr_p10_ratio", "rr_p90_ratio"),
    "p_wave": ("p_mv", "p_to_qrs", "p_beat_corr", "p_window_sd_to_qrs"),
    "morphology": ("beat_corr_p10", "beat_corr_min", "qrs_span_cv", "qrs_polarity", "qrs_area_to_span"),
    "t_wave": ("t_peak_s", "t_area_to_span"),
}


def variants(names: list[str]) -> dict[str, np.ndarray]:
    """Column masks (True = kept) of each variant, by the variant's name."""
    def mask(groups):
        blanked = {n for g in GROUPS if g not in groups for n in GROUPS[g]}
        return np.array([n not in blanked for n in names])

    out = {"before": mask(())}
    out.update({f"before+{g}": mask((g,)) for g in GROUPS})
    out["all"] = mask(tuple(GROUPS))
    return out


def cross_validate(feats, y, mask, classes, lead_names, sampling_rate, *, folds: int, repeats: int) -> dict:
    """Mean over ``repeats`` of the out-of-fold ``cinc2017_f1`` (and per-class F1) of the trees."""
    from sklearn.model_selection import StratifiedKFold

    from ecgtf.evaluation.scores import cinc2017_f1
    from ecgtf.features.gbm import FeatureGBM

    x = np.where(mask[None, :], feats, np.nan).astype(np.float32)
    labels = np.eye(len(classes), dtype=np.float32)[y]
    scores = []
    for r in range(repeats):
        p = np.zeros((len(y), len(classes)), np.float32)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=r).split(x, y):
            model = FeatureGBM("multiclass", classes, lead_names, sampling_rate).fit(x[tr], labels[tr])
            p[te] = model.predict_proba(x[te])
        scores.append(cinc2017_f1(y, p.argmax(axis=1), classes=tuple(classes)))
    return {k: round(float(np.mean([s[k] for s in scores])), 4) for k in scores[0]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True, help="folder holding cinc2017/")
    p.add_argument("--seed", type=int, default=0, help="the split whose training and validation records are used")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", required=True, help="JSON file of the results")
    args = p.parse_args(argv)

    from ecgtf.atomic import replacing
    from ecgtf.data.datasets import load_dataset
    from ecgtf.features.ecg_features import feature_matrix, feature_names
    from ecgtf.training.splits import split

    start = time.perf_counter()
    data = load_dataset("cinc2017", os.path.join(args.data_root, "cinc2017"), task="af4")
    parts = split(data, val_fraction=0.1, test_fraction=0.2, seed=args.seed, notes=[])
    dev = np.concatenate([parts["train"], parts["val"]])
    leads = list(data.lead_names)
    feats = feature_matrix((data.signal(int(i)) for i in dev), data.sampling_rate, leads, total=len(dev))
    y = data.labels[dev].argmax(axis=1)
    setting = {"records": int(len(dev)), "split_seed": args.seed, "folds": args.folds, "repeats": args.repeats,
               "groups": {k: list(v) for k, v in GROUPS.items()}}
    results = {}
    if os.path.isfile(args.out):  # a rerun keeps the variants an interrupted run finished with the same setting
        with open(args.out) as f:
            old = json.load(f)
        if {k: old.get(k) for k in setting} == setting:
            results = old["variants"]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    for name, mask in variants(feature_names(leads)).items():
        if name not in results:
            results[name] = cross_validate(feats, y, mask, list(data.task.output_names), leads,
                                           float(data.sampling_rate), folds=args.folds, repeats=args.repeats)
            with replacing(args.out) as tmp, open(tmp, "w") as f:
                json.dump({"command": "python " + " ".join(sys.argv), **setting,
                           "seconds": round(time.perf_counter() - start, 1), "variants": results}, f, indent=1)
        print(f"{name:24s} {int(mask.sum()):3d} features  cinc2017_f1 {results[name]['cinc2017_f1']:.4f}  "
              + "  ".join(f"{k} {v:.3f}" for k, v in results[name].items() if k.startswith("F1_")), flush=True)
    print(f"written to {args.out}")


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
