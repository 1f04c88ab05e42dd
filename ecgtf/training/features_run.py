"""Training the features view: ``scripts/train_features.py`` over :func:`train_features_run`.

The run folder holds ``features_config.json`` (the resolved :class:`FeaturesConfig`),
``features_model.joblib``/``.json`` (:class:`~ecgtf.features.gbm.FeatureGBM`), ``thresholds.json``
and, as a network's run does, ``metrics.json``/``predictions.csv`` (validation) and
``test_metrics.json``/``test_predictions.csv`` when there is a test split, with their plots. So
``ensemble.py`` averages it with network runs, and ``predict.py`` scores files with it.

Trees need no early stopping, so the validation records only tune the decision thresholds (of a
model fitted on the training records); the saved model is then refitted on training and validation
records together, and that model scores the test records.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ecgtf.features.gbm import GBMParams

CONFIG_FILE = "features_config.json"


@dataclasses.dataclass
class FeaturesConfig:
    """What one features run reads and how it splits (PTB-XL folds, or stratified shares)."""

    dataset: str = "synthetic"
    data_dir: str | None = None
    task: str | None = None
    sampling_rate: float | None = 100.0
    train_folds: list[int] | None = None
    val_folds: list[int] | None = None
    test_folds: list[int] | None = None
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    seed: int = 0
    scoring_dir: str | None = None
    cache_dir: str | None = None
    synthetic_n: int | None = None
    out: str | None = None
    params: GBMParams = dataclasses.field(default_factory=GBMParams)

    def save(self, path: str) -> None:
        from ecgtf.atomic import replacing

        with replacing(path) as tmp, open(tmp, "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=1)

    @classmethod
    def load(cls, path: str) -> FeaturesConfig:
        with open(path) as f:
            data = json.load(f)
        return cls(params=GBMParams(**data.pop("params", {})), **data)


def train_features_run(cfg: FeaturesConfig, *, say=print) -> dict:
    """Trains, scores and saves one features run into ``cfg.out``; returns the metrics
    (``{"val": ..., "test": ...}``)."""
    from ecgtf.data.datasets import load_dataset
    from ecgtf.evaluation.thresholds import tune_thresholds
    from ecgtf.features.ecg_features import feature_matrix, feature_names
    from ecgtf.features.gbm import FeatureGBM
    from ecgtf.training.report import summary_lines, write_json, write_report
    from ecgtf.training.splits import split

    if not cfg.out:
        raise ValueError("--out is required (the run folder)")
    data = load_dataset(cfg.dataset, cfg.data_dir, task=cfg.task, sampling_rate=cfg.sampling_rate,
                        cache_root=cfg.cache_dir, scoring_dir=cfg.scoring_dir, synthetic_n=cfg.synthetic_n,
                        seed=cfg.seed, say=say)
    notes: list[str] = []
    parts = split(data, train_folds=cfg.train_folds, val_folds=cfg.val_folds, test_folds=cfg.test_folds,
                  val_fraction=cfg.val_fraction, test_fraction=cfg.test_fraction, seed=cfg.seed, notes=notes)
    for note in notes:
        say(f"note: {note}")
    task, leads = data.task, list(data.lead_names)
    used = np.concatenate([parts["train"], parts["val"], parts["test"]])
    feats = np.zeros((len(data), len(feature_names(leads))), np.float32)
    feats[used] = feature_matrix((data.signal(int(i)) for i in used), data.sampling_rate, leads,
                                 total=len(used))
    cfg = dataclasses.replace(cfg, sampling_rate=float(data.sampling_rate), task=task.name)
    os.makedirs(cfg.out, exist_ok=True)
    cfg.save(os.path.join(cfg.out, CONFIG_FILE))
    ids = data.meta["record_id"].astype(str).to_numpy()

    def new_model():
        return FeatureGBM(task.kind, list(task.output_names), leads, float(data.sampling_rate), cfg.params)

    metrics = {}
    thresholds = None
    tr, va, te = parts["train"], parts["val"], parts["test"]
    if len(va):
        model = new_model().fit(feats[tr], data.labels[tr])
        p_val = model.predict_proba(feats[va])
        thresholds = tune_thresholds(task, data.labels[va], p_val)
        metrics["val"] = write_report(task, data.labels[va], p_val, cfg.out, thresholds=thresholds,
                                      record_ids=ids[va])
    fit_on = np.concatenate([tr, va])
    model = new_model().fit(feats[fit_on], data.labels[fit_on])
    model.save(cfg.out)
    write_json({"classes": list(task.output_names), "thresholds": thresholds}, os.path.join(cfg.out, "thresholds.json"))
    if len(te):
        metrics["test"] = write_report(task, data.labels[te], model.predict_proba(feats[te]), cfg.out,
                                       thresholds=thresholds, metrics_name="test_metrics.json", prefix="test_",
                                       record_ids=ids[te])
    say(f"features model: {len(fit_on)} training records ({len(tr)} train + {len(va)} validation), "
        f"{feats.shape[1]} features, {len(te)} test records")
    for part, m in metrics.items():
        for line in summary_lines(task, m):
            say(f"{part} {line}")
    say(f"written to {cfg.out}")
    return metrics


def read_features_config(run_dir: str) -> FeaturesConfig:
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir!r} is not a features run: {CONFIG_FILE} is missing")
    try:
        return FeaturesConfig.load(path)
    except (TypeError, json.JSONDecodeError) as err:  # an unknown key or a damaged file
        raise ValueError(f"{path} cannot be read ({err})") from None
