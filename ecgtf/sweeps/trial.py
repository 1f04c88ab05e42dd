"""One sweep trial: its parameters as a training config, and its score."""

from __future__ import annotations

import json
import math
import os

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig, parse_folds


def trial_config(params: dict, out: str, *, wandb_mode: str, group: str | None, project: str) -> TrainConfig:
    """The :class:`TrainConfig` of one trial: defaults < model defaults < the trial's parameters.

    Args:
        params: ``{config key or model_options.X: value}``; a nested ``model_options`` mapping
            (what ``wandb.config`` holds for wandb's nested parameters) is merged too.
        out: the trial's run folder.
        wandb_mode: ``disabled``, ``offline`` or ``online``.
        group: wandb group of the sweep's runs.
        project: wandb project.
    """
    from ecgtf.training.resolve import resolve_config

    flags: dict = {}
    options: dict = {}
    for key, value in params.items():
        if key.startswith("model_options."):
            options[key.split(".", 1)[1]] = value
        elif key == "model_options" and isinstance(value, dict):
            options.update(value)
        else:
            flags[key] = value
    for key in ("train_folds", "val_folds", "test_folds"):
        if key in flags:
            flags[key] = parse_folds(flags[key])
    if options:
        flags["model_options"] = options
    flags.update(out=out, wandb=wandb_mode, wandb_group=group, wandb_project=project)
    return cfglib.validate(resolve_config(flags))


def final_scores(result) -> dict:
    """``{val_<key>: ..., test_<key>: ...}``: a finished trial's final validation scores (the best
    epoch's model, as ``metrics.json``) and its held-out test scores when it has a test split."""
    scores = {f"val_{k}": v for k, v in result.metrics.items() if _scalar(v)}
    path = os.path.join(result.run_dir, "test_metrics.json")
    if os.path.isfile(path):
        with open(path) as f:
            scores.update({f"test_{k}": v for k, v in json.load(f).items() if _scalar(v)})
    return scores


def score_of(result, metric: str, goal: str) -> float:
    """The value a trial reports for ``metric``: its final score (:func:`final_scores`), or else
    the best epoch's value in ``history.csv`` (``loss``, ``val_loss``...).

    Raises:
        ValueError: the run logged no such score.
    """
    import pandas as pd

    metric = metric.removeprefix("epoch/")
    scores = final_scores(result)
    if metric in scores:
        return float(scores[metric])
    history = os.path.join(result.run_dir, "history.csv")
    if os.path.isfile(history):
        column = pd.read_csv(history).get(metric)
        if column is not None and column.notna().any():
            return float(column.max() if goal == "maximize" else column.min())
    raise ValueError(f"sweep metric {metric!r} was not logged; the run has {', '.join(sorted(scores))}")


def _scalar(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))
