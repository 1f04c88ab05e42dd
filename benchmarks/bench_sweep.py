#!/usr/bin/env python
"""Offline sweep on real data: bayes (TPE) + hyperband over ``sweeps/cinc2017_af4_compact1d.yaml``.

Runs ``scripts/sweep.py`` (each trial in its own process: the table's ``rss_mb`` is the sweep
process after each trial, ``peak_rss_mb`` the trial's own peak) on ``../shared/data/cinc2017`` at a reduced budget (``--epochs``, ``--max-train-records``), then
trains the README's default recipe (``bench_real_data.py cinc2017_af4``: lr 0.002, batch 32,
compact1d's own dropout and kernel) at the same budget on the same split and seed, and scores
both on the 20 % test share no trial selects on. Writes ``benchmarks/results/sweep_cinc2017_af4.json``
(the command, the best trial against the recipe, RSS per trial) and copies
``sweep_results.csv`` and both plots beside it. Rerunning resumes the sweep (finished trials are
kept); ``--reuse-baseline`` keeps a finished recipe run.

TensorFlow's oneDNN kernels are switched off (``TF_ENABLE_ONEDNN_OPTS=0``, before TF loads): on
the shared 2-core machine they crashed most trainings (segfault / heap corruption in the
first training step, with or without this change); both arms run the same way.
"""

import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

RECIPE = ["--dataset", "cinc2017", "--task", "af4", "--model", "compact1d", "--sampling-rate", "150",
          "--duration-s", "30", "--eval-hop-s", "15", "--standardize", "--augment", "--batch-size", "32",
          "--lr", "0.002", "--lr-schedule", "cosine", "--test-fraction", "0.2", "--val-fraction", "0.1"]
KEYS = ("cinc2017_f1", "F1_N", "F1_A", "F1_O", "F1_~")


def _scores(run_dir: str) -> dict:
    out = {}
    for split, name in (("val", "metrics.json"), ("test", "test_metrics.json")):
        with open(os.path.join(run_dir, name)) as f:
            metrics = json.load(f)
        out[split] = {k: round(float(metrics[k]), 4) for k in KEYS if k in metrics}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.path.join(HERE, "..", "..", "shared", "data", "cinc2017"))
    p.add_argument("--config", default=os.path.join(HERE, "..", "sweeps", "cinc2017_af4_compact1d.yaml"))
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--max-train-records", type=int, default=1000)
    p.add_argument("--out", default="runs/bench_sweep")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--wandb", choices=["offline", "disabled"], default="offline")
    p.add_argument("--reuse-baseline", action="store_true")
    args = p.parse_args(argv)
    command = "python benchmarks/bench_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    budget = [f"epochs={args.epochs}", f"max_train_records={args.max_train_records}", "verbose=2"]
    sweep_argv = ["--config", args.config, "--count", str(args.count), "--out", os.path.join(args.out, "sweep"),
                  "--wandb", args.wandb, "--set", f"data_dir={args.data_dir}",
                  *[a for b in budget for a in ("--set", b)]]
    import sweep as sweep_script

    start = time.perf_counter()
    study = sweep_script.main(sweep_argv)
    sweep_seconds = time.perf_counter() - start
    from ecgtf.sweeps.offline import sweep_summary
    from ecgtf.sweeps.spec import load_sweep

    spec = load_sweep(args.config)
    best = sweep_summary(study, spec.parameters)
    best_dir = os.path.join(args.out, "sweep", best["run_dir"])

    baseline_dir = os.path.join(args.out, "recipe")
    start = time.perf_counter()
    if not (args.reuse_baseline and os.path.isfile(os.path.join(baseline_dir, "test_metrics.json"))):
        import keras

        import train as train_script

        keras.backend.clear_session()
        train_script.main([*RECIPE, "--data-dir", args.data_dir, "--epochs", str(args.epochs),
                           "--max-train-records", str(args.max_train_records), "--out", baseline_dir,
                           "--verbose", "2"])
    baseline_seconds = time.perf_counter() - start

    trials = [{"trial": t.number, "state": t.state.name.lower(), "score": t.value,
               "epochs_run": t.user_attrs.get("epochs"), "seconds": t.user_attrs.get("seconds"),
               "rss_mb": t.user_attrs.get("rss_mb"), "peak_rss_mb": t.user_attrs.get("peak_rss_mb")}
              for t in study.get_trials(deepcopy=False)]
    result = {
        "command": command,
        "sweep_command": "python scripts/sweep.py " + " ".join(sweep_argv),
        "recipe_command": "python scripts/train.py " + " ".join(
            [*RECIPE, "--data-dir", args.data_dir, "--epochs", str(args.epochs),
             "--max-train-records", str(args.max_train_records)]),
        "budget": {"epochs": args.epochs, "max_train_records": args.max_train_records},
        "split": "seed 0, stratified: 20 % test (never selected on), 10 % validation, training subsample "
                 f"of {args.max_train_records} records",
        "env": {"TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")},
        "sweep_seconds_this_call": round(sweep_seconds, 1),
        "recipe_seconds_this_call": round(baseline_seconds, 1),
        "best_trial": {**best, "scores": _scores(best_dir)},
        "recipe": {"run_dir": baseline_dir, "scores": _scores(baseline_dir)},
        "trials": trials,
        "states": {s: sum(t["state"] == s for t in trials) for s in sorted({t["state"] for t in trials})},
    }
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "sweep_cinc2017_af4.json"), "w") as f:
        json.dump(result, f, indent=2, default=str)
    for name, target in (("sweep_results.csv", "sweep_cinc2017_af4_results.csv"),
                         ("parallel_coordinates.png", "sweep_cinc2017_af4_parallel_coordinates.png"),
                         ("param_importances.png", "sweep_cinc2017_af4_param_importances.png")):
        shutil.copyfile(os.path.join(args.out, "sweep", name), os.path.join(args.results, target))
    print(json.dumps({k: result[k] for k in ("best_trial", "recipe", "states")}, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
