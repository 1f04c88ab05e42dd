#!/usr/bin/env python
"""Cross-validation of the features view beside a network ensemble (PTB-XL), no network training.

    python benchmarks/bench_feature_view.py --data-root ../shared/data --task superdiagnostic \
        --ensembles runs/bench_cv_ens/ptbxl_superdiagnostic_beat-cv-ens3 --cv-folds 1-8 \
        --ledger benchmarks/results/cv_features_superdiagnostic.json

For every test fold K whose network ensemble ``ENSEMBLES/testK`` is finished (``bench_real_data.py
--cv-folds ... --ensemble-val-folds ...``), trains the features view (``train_features.py``) with
the same test fold and the ensemble's first validation fold (training on the other folds), then
averages the two views' test probabilities with equal weight (``ensemble.py``; the weight is fixed,
not tuned). The ledger (one entry per fold, read by ``cv_ledger_table.py``) holds the views' mean as
the main score, ``[ensemble, features]`` as its members and each view's per-class AUC; a finished
fold is skipped on a rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def first_val_fold(ensemble_dir: str) -> int:
    """The validation fold of an ensemble's first member (its folder is named ``valK``)."""
    from ecgtf.training.ensemble_run import member_dirs

    name = os.path.basename(os.path.normpath(member_dirs(ensemble_dir)[0]))
    if not name.startswith("val") or not name[3:].isdigit():
        raise ValueError(f"{ensemble_dir}: its first member {name!r} is not named valK")
    return int(name[3:])


def per_class_auc(ensemble_dir: str, features_dir: str, views_dir: str) -> dict | None:
    """``{view: {class: AUC}}`` from the three folders' test reports (None when one is gone)."""
    paths = {"ensemble": os.path.join(ensemble_dir, "test_metrics.json"),
             "features": os.path.join(features_dir, "test_metrics.json"),
             "views": os.path.join(views_dir, "metrics.json")}
    if not all(os.path.isfile(p) for p in paths.values()):
        return None
    out = {}
    for view, path in paths.items():
        with open(path) as f:
            per_class = json.load(f).get("per_class") or {}
        out[view] = {c: v.get("auc") for c, v in per_class.items()}
    return out


def run_fold(task: str, data_dir: str, ensemble_dir: str, test: int, folds: list[int], out_root: str) -> dict:
    """Trains the features view of one fold and scores it with the ensemble; returns the ledger entry."""
    import ensemble as ensemble_script

    from ecgtf.training.features_run import FeaturesConfig, train_features_run

    start = time.perf_counter()
    val = first_val_fold(ensemble_dir)
    train = [f for f in folds if f not in (test, val)]
    features_dir = os.path.join(out_root, f"features-test{test}")
    train_features_run(FeaturesConfig(dataset="ptbxl", data_dir=data_dir, task=task, sampling_rate=100.0,
                                      train_folds=train, val_folds=[val], test_folds=[test], out=features_dir))
    views_dir = os.path.join(out_root, f"views-test{test}")
    ensemble_script.main(["--runs", ensemble_dir, features_dir, "--out", views_dir, "--split", "test"])
    with open(os.path.join(views_dir, "ensemble.json")) as f:
        summary = json.load(f)
    score = next(k for k in ("auc", "macro_auc") if k in summary)
    return {"name": f"ptbxl_{task}_ens+features", "scored_on": "views ensemble.json", "run_dir": views_dir,
            "seconds": round(time.perf_counter() - start, 1), "val_folds": [val], "train_folds": train,
            score: summary[score], f"{score}_members": [m[score] for m in summary["members"]],
            "members": ["network ensemble", "features (gradient-boosted trees)"],
            "per_class_auc": per_class_auc(ensemble_dir, features_dir, views_dir)}


def main(argv=None):
    from bench_real_data import read_ledger, write_ledger

    from ecgtf.config import parse_folds

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True, help="folder holding ptbxl/")
    p.add_argument("--task", required=True, help="PTB-XL task, e.g. superdiagnostic, mi_vs_norm")
    p.add_argument("--ensembles", required=True, help="folder of the CV ensembles (testK subfolders)")
    p.add_argument("--cv-folds", nargs="+", default=["1-8"], help="test folds to run")
    p.add_argument("--pool-folds", nargs="+", default=["1-8"],
                   help="all folds of the CV: each run trains on those that are neither its test nor its validation fold")
    p.add_argument("--ledger", required=True, help="JSON ledger of finished folds (kept and extended)")
    p.add_argument("--out-root", default="runs/bench_features")
    args = p.parse_args(argv)
    folds = parse_folds(args.cv_folds)
    done = read_ledger(args.ledger)
    for test in folds:
        key = f"ptbxl_{args.task}_ens+features/test{test}"
        ensemble_dir = os.path.join(args.ensembles, f"test{test}")
        if key in done:
            entry = done[key]
            if "per_class_auc" not in entry:  # ledgers from before per-class scores: filled in while the runs exist
                root = os.path.join(args.out_root, args.task)
                found = per_class_auc(ensemble_dir, os.path.join(root, f"features-test{test}"),
                                      os.path.join(root, f"views-test{test}"))
                if found:
                    write_ledger(args.ledger, key, {**entry, "per_class_auc": found})
            continue
        if not os.path.isfile(os.path.join(ensemble_dir, "test_predictions.csv")):
            print(f"fold {test}: no finished ensemble in {ensemble_dir}; skipped")
            continue
        result = run_fold(args.task, os.path.join(args.data_root, "ptbxl"), ensemble_dir, test, parse_folds(args.pool_folds),
                          os.path.join(args.out_root, args.task))
        write_ledger(args.ledger, key, result)
        print(f"fold {test}: {json.dumps({k: v for k, v in result.items() if 'auc' in k})}")


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
