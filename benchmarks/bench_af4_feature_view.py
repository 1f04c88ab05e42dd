#!/usr/bin/env python
"""CinC 2017 ``af4``: the features view beside the ``compact1d`` run of each split, no network training.

    python benchmarks/bench_af4_feature_view.py --data-root ../shared/data --seeds 0 1 2 \
        --networks 'runs/bench_af4_seed{seed}/cinc2017_af4' \
        --ledger benchmarks/results/cinc2017_af4_features_seeds.json

For every seed whose network run is finished (``bench_real_data.py --only cinc2017_af4 --out-root
runs/bench_af4_seedS -- --seed S``: its own stratified 20 % test share and 10 % validation share),
trains the features view (``train_features.py``) on the same split, read from the network run's
config, and averages the two views' test probabilities at equal weight (``ensemble.py``; the
weight is fixed, not tuned). The ledger has one entry per seed, keyed ``NAME/testS`` (the test
share of seed S) so that ``cv_ledger_table.py`` prints mean ± sd over the seeds: the views' mean is
the main score, ``[network, features]`` its members, and each view's per-class F1. A finished seed
is skipped on a rerun.
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

NAME = "cinc2017_af4_compact1d+features"


def per_class_f1(path: str) -> dict:
    with open(path) as f:
        return {c: round(v["f1"], 4) for c, v in json.load(f)["per_class"].items()}


def run_seed(data_dir: str, network_dir: str, out_root: str, seed: int) -> dict:
    """Trains the features view on the network run's split, scores the pair; returns the ledger entry."""
    import ensemble as ensemble_script

    from ecgtf.config import load
    from ecgtf.features.gbm import is_current
    from ecgtf.training.features_run import FeaturesConfig, train_features_run

    start = time.perf_counter()
    net = load(os.path.join(network_dir, "config.yaml"))
    if net.seed != seed:
        raise ValueError(f"{network_dir} was trained with seed {net.seed}, not {seed}")
    features_dir = os.path.join(out_root, f"features-seed{seed}")
    if not (os.path.isfile(os.path.join(features_dir, "test_metrics.json")) and is_current(features_dir)):
        train_features_run(FeaturesConfig(dataset=net.dataset, data_dir=data_dir, task=net.task,
                                          sampling_rate=net.sampling_rate, val_fraction=net.val_fraction,
                                          test_fraction=net.test_fraction, seed=net.seed, out=features_dir))
    views_dir = os.path.join(out_root, f"views-seed{seed}")
    ensemble_script.main(["--runs", network_dir, features_dir, "--out", views_dir, "--split", "test"])
    with open(os.path.join(views_dir, "ensemble.json")) as f:
        summary = json.load(f)
    return {"name": NAME, "seed": seed, "run_dir": views_dir, "n_records": summary["n_records"],
            "seconds": round(time.perf_counter() - start, 1),
            "cinc2017_f1": summary["cinc2017_f1"],
            "cinc2017_f1_members": [m["cinc2017_f1"] for m in summary["members"]],
            "members": ["compact1d", "features (gradient-boosted trees)"],
            "per_class_f1": {"network": per_class_f1(os.path.join(network_dir, "test_metrics.json")),
                             "features": per_class_f1(os.path.join(features_dir, "test_metrics.json")),
                             "views": per_class_f1(os.path.join(views_dir, "metrics.json"))}}


def main(argv=None):
    from bench_real_data import read_ledger, write_ledger

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True, help="folder holding cinc2017/")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--networks", default="runs/bench_af4_seed{seed}/cinc2017_af4",
                   help="each seed's finished compact1d run folder ({seed} is replaced)")
    p.add_argument("--ledger", required=True, help="JSON ledger of finished seeds (kept and extended)")
    p.add_argument("--out-root", default="runs/bench_af4_features")
    args = p.parse_args(argv)
    done = read_ledger(args.ledger)
    for seed in args.seeds:
        key = f"{NAME}/test{seed}"
        if key in done:
            continue
        network_dir = args.networks.format(seed=seed)
        if not os.path.isfile(os.path.join(network_dir, "test_predictions.csv")):
            print(f"seed {seed}: no finished network run in {network_dir}; skipped")
            continue
        result = run_seed(os.path.join(args.data_root, "cinc2017"), network_dir, args.out_root, seed)
        write_ledger(args.ledger, key, result)
        print(f"seed {seed}: cinc2017_f1 {result['cinc2017_f1']:.4f} "
              f"(compact1d {result['cinc2017_f1_members'][0]:.4f}, features {result['cinc2017_f1_members'][1]:.4f})")


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
