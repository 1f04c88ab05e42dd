#!/usr/bin/env python
"""Score an ensemble of runs: ``python scripts/ensemble.py --runs RUN ... --out DIR [--split test]``.

Averages the runs' saved per-record probabilities (``test_predictions.csv`` for
``--split test``, ``predictions.csv`` for ``--split val``, or ``--file``) over the records
every run scored, and writes ``metrics.json``, the plots and ``predictions.csv`` of the
ensemble into ``--out``, with ``ensemble.json`` naming the members and each member's own
score. Multi-label decision thresholds are the mean of the members' ``thresholds.json``
(each tuned on its own validation records), so no test record tunes anything.
Nothing is re-run: train the members first (e.g. ``bench_real_data.py --ensemble-val-folds``).
``--split none`` scores nothing and only writes the run folder: for members trained on all the
data (a final predictor), which share no held-out records.
When the members take the same decoded input (rate, leads, filter, window), ``--out`` also gets
``model.keras`` (their models averaged), ``config.yaml``, ``run_spec.json`` and ``thresholds.json``,
so ``evaluate.py --run OUT``, ``gradcam.py --run OUT`` (``--member K`` for one member) and export treat it as a run.
With a features run (``train_features.py``) among the members, ``--out`` holds ``ensemble.json`` and
``thresholds.json`` only, and ``predict.py --model OUT`` averages the members record by record.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

def main(argv=None):
    from ecgtf.evaluation.ensemble import mean_probabilities, mean_thresholds, merge_predictions
    from ecgtf.evaluation.scores import compute_metrics, main_score
    from ecgtf.training.ensemble_run import write_ensemble_run
    from ecgtf.training.report import summary_lines, write_json, write_report
    from ecgtf.training.saved import PREDICTION_FILES, read_predictions, read_thresholds

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", required=True, help="run folders (two or more)")
    p.add_argument("--split", choices=[*PREDICTION_FILES, "none"], default="test",
                   help="which saved predictions to average; none: write the run folder only")
    p.add_argument("--file", help="predictions file inside each run folder instead (e.g. eval_folds/predictions.csv)")
    p.add_argument("--out", required=True, help="folder for the ensemble's metrics, plots and predictions")
    args = p.parse_args(argv)
    if len(args.runs) < 2:
        p.error("--runs needs at least two run folders")
    if args.split == "none" and args.file:
        p.error("--file names predictions to score; --split none scores nothing")
    thresholds = mean_thresholds([read_thresholds(run).get("thresholds") for run in args.runs])
    if args.split == "none":
        return _run_folder_only(args.runs, args.out, thresholds)

    frames, tasks = zip(*(read_predictions(run, args.split, args.file) for run in args.runs))
    names = {t.name for t in tasks}
    if len(names) > 1:
        raise SystemExit(f"the runs are for different tasks: {', '.join(sorted(names))}")
    task = tasks[0]
    y_true, probs, record_ids = merge_predictions(frames)
    members = [{"run": os.path.abspath(run), task.main_score: main_score(task, compute_metrics(task, y_true, prob))}
               for run, prob in zip(args.runs, probs)]
    metrics = write_report(task, y_true, mean_probabilities(probs), args.out,
                           thresholds=thresholds, record_ids=record_ids)
    if _has_features_member(args.runs):
        loadable = _write_mean_folder(args.out, task.output_names, thresholds)
    else:
        try:  # the members' models averaged into one: evaluate.py, gradcam.py and export read --out as a run
            write_ensemble_run([m["run"] for m in members], args.out, thresholds)
            loadable = f"{args.out} is a run folder too (model.keras averages the members)"
        except (ValueError, FileNotFoundError) as err:  # members of other inputs, or saved predictions only
            loadable = f"no model.keras in {args.out}: {err}"
    write_json({"members": members, "split": args.split, "file": args.file or PREDICTION_FILES[args.split],
                "n_records": int(len(y_true)), task.main_score: main_score(task, metrics)},
               os.path.join(args.out, "ensemble.json"))
    print(f"{len(args.runs)} runs on the {len(y_true)} records they all scored:")
    for m in members:
        print(f"  {m[task.main_score]:.4f}  {m['run']}")
    for line in summary_lines(task, metrics):
        print(f"ensemble {line}")
    print(f"written to {args.out}; {loadable}")
    return metrics


def _run_folder_only(runs: list[str], out: str, thresholds: list | None) -> dict:
    """The members' models averaged into the run folder ``out`` (with the members' mean
    ``thresholds``), without scoring."""
    from ecgtf.training.ensemble_run import write_ensemble_run
    from ecgtf.training.report import write_json

    if _has_features_member(runs):
        from ecgtf.serving.predictor import check_averageable, load_predictor

        infos = [load_predictor(r).info for r in runs]
        check_averageable(infos, "--runs")  # said now, not when predict.py first reads the folder
        classes = infos[0].class_names
        loadable = _write_mean_folder(out, classes, thresholds)
    else:
        try:
            write_ensemble_run([os.path.abspath(r) for r in runs], out, thresholds)
        except ValueError as err:
            raise SystemExit(str(err)) from None
        loadable = f"{out} is a run folder (model.keras averages the {len(runs)} members)"
    write_json({"members": [{"run": os.path.abspath(r)} for r in runs], "split": None},
               os.path.join(out, "ensemble.json"))
    print(f"{loadable}; nothing scored (--split none)")
    return {}


def _has_features_member(runs: list[str]) -> bool:
    from ecgtf.features.gbm import is_features_run

    return any(is_features_run(r) for r in runs)


def _write_mean_folder(out: str, classes, thresholds) -> str:
    """With a features run (trees) among the members there is no single Keras model: the folder
    holds ``ensemble.json`` and ``thresholds.json``, and ``predict.py`` averages the members."""
    from ecgtf.training.report import write_json

    os.makedirs(out, exist_ok=True)
    write_json({"classes": list(classes), "thresholds": thresholds}, os.path.join(out, "thresholds.json"))
    return (f"predict.py --model {out} averages the members (a features run among them: no single model.keras, "
            "so evaluate.py, gradcam.py and export take the network members one by one)")


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
