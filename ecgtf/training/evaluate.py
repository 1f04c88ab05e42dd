"""Evaluating a finished run on any split or fold, with the run's own preprocessing."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ecgtf.training.predict import predict_records
from ecgtf.training.report import summary_lines, write_report
from ecgtf.inputs.runspec import load_run_data
from ecgtf.training.saved import load_run
from ecgtf.training.splits import split_run

SPLITS = ("train", "val", "test", "all")


def check_task(dataset: str, task: str) -> None:
    """Raises ValueError (one line naming the task and ``dataset``'s tasks) when ``dataset``
    has no task called ``task``; reads no data."""
    from ecgtf.data.datasets import DATASETS, READERS, synthetic_layout

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}")
    layout = synthetic_layout(task) if dataset == "synthetic" else dataset
    names = list(READERS[layout].tasks) or ["scored27"]  # cinc2020 builds its task from the data's tables
    if task not in names:
        raise ValueError(f"the run was trained for task {task!r}, which {dataset} does not have; "
                         f"{dataset}'s tasks: {', '.join(names)}")


def evaluate_run(run_dir: str, *, dataset: str | None = None, data_dir: str | None = None,
                 folds: list[int] | None = None, split_name: str = "test", out: str | None = None) -> dict:
    """Scores the run's best model and writes the metrics and plots beside ``out``.

    Args:
        run_dir: a run folder from ``scripts/train.py``.
        dataset, data_dir: the data to score on (default: the run's own).
        folds: PTB-XL folds to score (overrides ``split_name``).
        split_name: ``train``, ``val``, ``test`` (the run's own split rules) or ``all``.
        out: path of the metrics JSON (default ``RUN_DIR/eval_<split>/metrics.json``).
    """
    if split_name not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {split_name!r}")
    run = load_run(run_dir)
    changes = {k: v for k, v in {"dataset": dataset, "data_dir": data_dir}.items() if v}
    cfg = dataclasses.replace(run.cfg, **changes)
    if dataset:
        check_task(dataset, cfg.task)
    data = load_run_data(cfg, say=print)
    if folds:
        if "fold" not in data.meta.columns:
            raise ValueError(f"--folds needs a dataset with folds (PTB-XL); {data.name} has none")
        idx = np.flatnonzero(np.isin(data.meta["fold"].to_numpy(), folds))
        label = "folds " + ",".join(str(f) for f in folds)
    elif split_name == "all":
        idx, label = np.arange(len(data)), "all records"
    else:
        parts = split_run(data, cfg)
        idx, label = parts[split_name], f"the {split_name} split"
    if len(idx) == 0:
        raise ValueError(f"no records in {label} of {data.name}")
    if run.spec.n_leads and len(data.lead_names) != run.spec.n_leads:
        raise ValueError(f"the run's model takes {run.spec.n_leads} lead(s); {data.name} has {len(data.lead_names)}")
    y_prob = predict_records(run.model, data, idx, run.spec)
    out = out or os.path.join(run_dir, f"eval_{split_name if not folds else 'folds'}", "metrics.json")
    out_dir = os.path.dirname(os.path.abspath(out))
    # Plots and predictions take the metrics file's name as prefix (x.json -> x_roc.png), so an
    # --out inside the run folder never overwrites the run's own files.
    stem = os.path.splitext(os.path.basename(out))[0]
    metrics = write_report(data.task, data.labels[idx], y_prob, out_dir, thresholds=run.thresholds,
                           metrics_name=os.path.basename(out), prefix="" if stem == "metrics" else f"{stem}_",
                           record_ids=data.meta["record_id"].to_numpy()[idx])
    print(f"{data.name}, {label}: {len(idx)} records")
    for line in summary_lines(data.task, metrics):
        print(f"  {line}")
    print(f"wrote {out}")
    return metrics
