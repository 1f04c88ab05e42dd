"""Reading what a finished run folder saved: config, input spec and model, thresholds, per-record predictions."""

from __future__ import annotations

import dataclasses
import json
import os

#: Per-record predictions a run writes, by split: validation during training, test when
#: the run had test folds.
PREDICTION_FILES = {"val": "predictions.csv", "test": "test_predictions.csv"}


@dataclasses.dataclass
class Run:
    """A finished run folder, ready to predict.

    Attributes:
        dir: the run folder.
        cfg: its :class:`ecgtf.config.TrainConfig`.
        spec: its :class:`ecgtf.inputs.runspec.RunSpec`.
        model: ``(batch, samples, leads)`` mV at ``spec.sampling_rate`` -> probabilities; its
            ``prepare`` block makes the network's input (uncompiled).
        thresholds: the tuned decision thresholds (None when the run saved none).
        prior_shift: the logit shift folded into the saved model's output (None: none).
        members: an ensemble folder's member run folders (None for a single run).
    """

    dir: str
    cfg: object
    spec: object
    model: object
    thresholds: list | None = None
    prior_shift: list | None = None
    members: list | None = None

    @property
    def prepare(self):
        """The ``prepare`` block: decoded windows (mV) -> the network's input."""
        from ecgtf.inputs.specs import split_model

        return split_model(self.model)[0]

    @property
    def network(self):
        """The trained network (input: what ``prepare`` makes)."""
        from ecgtf.inputs.specs import split_model

        return split_model(self.model)[1]


def load_run(run_dir: str, *, with_model: bool = True) -> Run:
    """Reads a run folder written by ``train``: config, input spec, model with its ``prepare``
    block, thresholds.

    Folders from before ``run_spec.json`` existed load too: their spec is rebuilt from
    ``config.yaml`` and their network gets the ``prepare`` block that spec describes.
    ``with_model=False`` leaves ``model`` None, for an ensemble whose members are loaded
    one by one anyway (its ``model.keras`` holds them all again).

    Raises:
        FileNotFoundError: the folder, ``config.yaml`` or ``model.keras`` is missing (one line).
        ValueError: a file is there but cannot be read (one line naming it and why).
    """
    import keras

    from ecgtf import config as cfglib
    from ecgtf.inputs.specs import split_model, with_prepare
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"run folder {run_dir!r} does not exist")
    _refuse_tree_folders(run_dir)
    for name in ("config.yaml", "model.keras"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise FileNotFoundError(f"{run_dir!r} is not a finished run folder: {name} is missing")
    try:
        cfg = cfglib.load(os.path.join(run_dir, "config.yaml"))
    except (KeyError, ValueError, TypeError) as err:
        raise ValueError(f"{os.path.join(run_dir, 'config.yaml')} cannot be read: {err}") from None
    saved = read_thresholds(run_dir)
    spec = read_spec(run_dir, cfg)
    from ecgtf.training.ensemble_run import is_ensemble, member_dirs

    ensemble = is_ensemble(run_dir)
    if not with_model and not ensemble:
        raise ValueError(f"with_model=False is for ensemble folders; {run_dir} is a single run")
    model = None
    if with_model:
        from ecgtf.models.loading import load_model_file

        model = load_model_file(os.path.join(run_dir, "model.keras"))
    if ensemble:  # the members' models averaged, each with its own prepare block
        return Run(run_dir, cfg, spec, model, saved.get("thresholds"), None, member_dirs(run_dir))
    if split_model(model)[0] is None:  # an old run: the network alone
        model = with_prepare(model, spec.build_prepare(n_leads=spec.n_leads or _old_leads(cfg, model)))
    return Run(run_dir, cfg, spec, model, saved.get("thresholds"), saved.get("prior_shift"))


def _refuse_tree_folders(run_dir: str) -> None:
    """A features run, or an ensemble folder holding one, has no Keras model: say what reads it."""
    from ecgtf.features.gbm import is_features_run
    from ecgtf.training.ensemble_run import is_ensemble, member_dirs

    if is_features_run(run_dir):
        raise ValueError(f"{run_dir} is a features run (gradient-boosted trees, no Keras model): predict.py and "
                         "ensemble.py read it; evaluate.py, gradcam.py and export.py take network runs")
    if is_ensemble(run_dir) and not os.path.isfile(os.path.join(run_dir, "model.keras")):
        members = member_dirs(run_dir)
        nets = [d for d in members if not is_features_run(d)]
        if len(nets) < len(members):
            raise ValueError(f"{run_dir} averages a features run (trees) with networks, so it has no single Keras "
                             f"model: predict.py reads it; for evaluate.py, gradcam.py and export.py take its "
                             f"network member {', '.join(nets) or '(none)'}")


def read_spec(run_dir: str, cfg=None):
    """The run's :class:`ecgtf.inputs.runspec.RunSpec` (rebuilt from ``config.yaml`` for a
    folder from before ``run_spec.json``), without loading its model."""
    from ecgtf import config as cfglib
    from ecgtf.inputs.runspec import SPEC_FILE, RunSpec

    path = os.path.join(run_dir, SPEC_FILE)
    if os.path.isfile(path):
        return RunSpec.load(path)
    cfg = cfg or cfglib.load(os.path.join(run_dir, "config.yaml"))
    return _spec_of_old_run(cfg, read_thresholds(run_dir))


def _spec_of_old_run(cfg, saved: dict):
    """The spec of a run folder without ``run_spec.json``, from its ``config.yaml``."""
    from ecgtf.data.datasets import READERS, synthetic_layout, task_for
    from ecgtf.inputs.runspec import make_spec, window_samples
    from ecgtf.models.registry import get_entry

    if not cfg.sampling_rate or not cfg.duration_s:
        raise ValueError("config.yaml has no sampling_rate or duration_s (not written by train.py)")
    layout = synthetic_layout(cfg.task) if cfg.dataset == "synthetic" else cfg.dataset
    task_name = cfg.task or (READERS[layout].default_task if layout in READERS else None)
    task = task_for(cfg.dataset, task_name, cfg.data_dir, cfg.scoring_dir)
    spec = make_spec(cfg, get_entry(cfg.model), task, cfg.sampling_rate, None,
                     window_samples(cfg.duration_s, cfg.sampling_rate))
    if saved.get("classes"):
        spec.class_names = list(saved["classes"])
    return spec


def _old_leads(cfg, model) -> int:
    from ecgtf.data.datasets import READERS, synthetic_layout
    from ecgtf.models.registry import get_entry

    if get_entry(cfg.model).input_kind in ("raw", "median_beat"):
        return int(model.inputs[0].shape[-1])
    layout = synthetic_layout(cfg.task) if cfg.dataset == "synthetic" else cfg.dataset
    return READERS[layout].expected_leads


def read_thresholds(run_dir: str) -> dict:
    """The run's ``thresholds.json`` (``classes``, ``thresholds``), or ``{}`` when it has none."""
    path = os.path.join(run_dir, "thresholds.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err})") from None


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
    from ecgtf.features.gbm import is_features_run

    if is_features_run(run_dir):  # scripts/train_features.py: its own config file
        from ecgtf.training.features_run import read_features_config

        cfg = spec = read_features_config(run_dir)
    else:
        from ecgtf.inputs.runspec import SPEC_FILE, RunSpec

        cfg = cfglib.load(os.path.join(run_dir, "config.yaml"))
        spec_path = os.path.join(run_dir, SPEC_FILE)  # older folders: the task in config.yaml
        spec = RunSpec.load(spec_path) if os.path.isfile(spec_path) else cfg
    return (pd.read_csv(path, dtype={"record_id": str}),
            task_for(spec.dataset, spec.task, cfg.data_dir, cfg.scoring_dir))
