"""Reading what a finished run folder saved: config and model, thresholds, per-record predictions."""

from __future__ import annotations

import json
import os

#: Per-record predictions a run writes, by split: validation during training, test when
#: the run had test folds.
PREDICTION_FILES = {"val": "predictions.csv", "test": "test_predictions.csv"}


def load_run(run_dir: str):
    """``(config, model, thresholds)`` of a run folder written by ``train`` (model uncompiled).

    Raises:
        FileNotFoundError: ``config.yaml`` or ``model.keras`` is missing.
    """
    import keras

    from ecgtf import config as cfglib

    for name in ("config.yaml", "model.keras"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise FileNotFoundError(f"{run_dir!r} is not a finished run folder: {name} is missing")
    cfg = cfglib.load(os.path.join(run_dir, "config.yaml"))
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"), compile=False)
    return cfg, model, read_thresholds(run_dir).get("thresholds")


def read_thresholds(run_dir: str) -> dict:
    """The run's ``thresholds.json`` (``classes``, ``thresholds``), or ``{}`` when it has none."""
    path = os.path.join(run_dir, "thresholds.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def read_predictions(run_dir: str, split: str = "test", file: str | None = None):
    """``(table, task)``: a run's per-record predictions and the task they were made for.

    Args:
        run_dir: a run folder from ``scripts/train.py``.
        split: key of ``PREDICTION_FILES``.
        file: a predictions file inside the run folder instead (e.g. what ``evaluate.py`` wrote).

    Raises:
        SystemExit: the file is missing (with a hint when it is the run's own split file).
    """
    import pandas as pd

    from ecgtf import config as cfglib
    from ecgtf.data.datasets import task_for

    path = os.path.join(run_dir, file or PREDICTION_FILES[split])
    if not os.path.isfile(path):
        hint = "" if file else (f": the run has no {split} predictions (train with test folds, "
                                "use --split val, or score it with evaluate.py and pass --file)")
        raise SystemExit(f"{path} is missing{hint}")
    cfg = cfglib.load(os.path.join(run_dir, "config.yaml"))
    return (pd.read_csv(path, dtype={"record_id": str}),
            task_for(cfg.dataset, cfg.task, cfg.data_dir, cfg.scoring_dir))
