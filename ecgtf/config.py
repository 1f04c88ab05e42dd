"""Typed run configuration: defaults < model defaults < ``--config file.yaml`` < flags.

The resolved config is saved as ``config.yaml`` in every run folder; unknown keys raise.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on.

    Attributes (units in names): see ``scripts/train.py --help`` for each flag.
    """

    model: str = "inception_spectrogram"
    dataset: str = "synthetic"
    data_dir: str | None = None
    task: str | None = None
    sampling_rate: float | None = None      # Hz; the dataset's native rate when None
    duration_s: float | None = None         # crop length in s; the whole record length when None
    signal_filter: str = "none"             # none | bandpass | baseline
    standardize: bool = False               # per-lead standardisation of each crop
    augment: bool = False
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    lr_schedule: str = "constant"           # constant | cosine (per phase, 1-epoch linear warm-up)
    optimizer: str = "adam"                 # adam | sgd | rmsprop
    weight_decay: float | None = None       # decoupled weight decay (adam + this = AdamW); None: none
    class_weight: str = "auto"              # auto | none
    decision_prior: str = "data"            # data | balanced: undo the class weights in the saved softmax model or not
    seed: int = 0
    out: str | None = None
    resume: bool = False
    strict: bool = False
    train_folds: list[int] | None = None    # PTB-XL strat_fold values
    val_folds: list[int] | None = None
    test_folds: list[int] | None = None
    val_fraction: float = 0.2               # stratified split for the other datasets
    test_fraction: float = 0.0              # stratified held-out test share for the other datasets
    max_train_records: int | None = None    # keep only this many training records (small-data runs)
    eval_hop_s: float | None = None         # evaluation window hop for crop averaging; no averaging when None
    weights: str | None = None              # imagenet | none | PATH (image backbones)
    init_from: str | None = None            # run folder or model file (transfer)
    freeze: int = 5
    unfreeze_after: int | None = None       # epoch at which a second, unfrozen phase starts
    fine_tune_lr: float | None = None
    model_options: dict = dataclasses.field(default_factory=dict)
    synthetic_n: int | None = None
    scoring_dir: str | None = None
    cache_dir: str | None = None
    wandb: bool = False
    wandb_project: str = "ecgtf"
    patience: int | None = None             # early stopping on the main validation score
    verbose: int | None = None              # Keras verbosity; progress bars on a TTY, one line per epoch otherwise


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def merge(config: TrainConfig, updates: dict[str, Any], source: str) -> TrainConfig:
    """Returns ``config`` with ``updates`` applied; unknown keys raise naming ``source``."""
    unknown = sorted(set(updates) - set(FIELDS))
    if unknown:
        raise KeyError(f"unknown config key(s) in {source}: {', '.join(unknown)}; "
                       f"valid keys: {', '.join(sorted(FIELDS))}")
    return dataclasses.replace(config, **updates)


def load_yaml(path: str) -> dict[str, Any]:
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must hold a mapping of keys to values")
    return data


def save(config: TrainConfig, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        yaml.safe_dump(dataclasses.asdict(config), f, sort_keys=False)


def load(path: str) -> TrainConfig:
    """Reads a saved ``config.yaml`` back into a :class:`TrainConfig`."""
    return merge(TrainConfig(), load_yaml(path), path)


def parse_folds(text: str | list | None) -> list[int] | None:
    """``"1-6"``, ``"1,3,5"``, ``["1-3", "7"]`` -> sorted fold numbers."""
    if text is None:
        return None
    items = text if isinstance(text, (list, tuple)) else [text]
    folds: set[int] = set()
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                lo, hi = (int(p) for p in part.split("-", 1))
                folds.update(range(lo, hi + 1))
            else:
                folds.add(int(part))
    return sorted(folds)
