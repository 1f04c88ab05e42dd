"""Typed run configuration: defaults < model defaults < ``--config file.yaml`` < flags.

The resolved config is saved as ``config.yaml`` in every run folder; unknown keys raise.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import yaml

from ecgtf.atomic import replacing


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
    duration_s: float | None = None         # crop length in s; from the record lengths when None
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
    wandb: str = "disabled"                 # disabled | offline | online (offline needs no account)
    wandb_project: str = "ecgtf"
    wandb_group: str | None = None          # wandb run group (a sweep's trials share one)
    patience: int | None = None             # early stopping on the main validation score
    verbose: int | None = None              # Keras verbosity; progress bars on a TTY, one line per epoch otherwise
    strategy: str = "auto"                  # auto | mirrored | multiworker (tf.distribute; batch_size is per replica)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
#: ``--wandb`` values; ``WANDB_MODE=disabled`` in the environment (CI) turns logging off whatever they say.
WANDB_MODES = ("disabled", "offline", "online")


def merge(config: TrainConfig, updates: dict[str, Any], source: str) -> TrainConfig:
    """Returns ``config`` with ``updates`` applied; unknown keys raise naming ``source``."""
    unknown = sorted(set(updates) - set(FIELDS))
    if isinstance(updates.get("wandb"), bool):  # older config files: wandb: true/false
        updates = {**updates, "wandb": "online" if updates["wandb"] else "disabled"}
    if unknown:
        raise KeyError(f"unknown config key(s) in {source}: {', '.join(unknown)}; "
                       f"valid keys: {', '.join(sorted(FIELDS))}")
    return dataclasses.replace(config, **updates)


def validate(config: TrainConfig) -> TrainConfig:
    """Checks the values a run cannot start with, before any file is written.

    Raises:
        ValueError: one line naming the flag, its value and what it must be.
    """
    from ecgtf.data.transforms import FILTERS

    c = config
    checks = [
        (c.epochs >= 1, "--epochs", c.epochs, "at least 1"),
        (c.batch_size >= 1, "--batch-size", c.batch_size, "at least 1"),
        (c.lr > 0, "--lr", c.lr, "positive"),
        (0 < c.val_fraction < 1, "--val-fraction", c.val_fraction, "between 0 and 1"),
        (0 <= c.test_fraction < 1, "--test-fraction", c.test_fraction, "in [0, 1)"),
        (c.val_fraction + c.test_fraction < 1, "--val-fraction + --test-fraction",
         c.val_fraction + c.test_fraction, "below 1 (records must be left to train)"),
        (c.duration_s is None or c.duration_s > 0, "--duration-s", c.duration_s, "positive"),
        (c.sampling_rate is None or c.sampling_rate > 0, "--sampling-rate", c.sampling_rate, "positive (Hz)"),
        (c.eval_hop_s is None or c.eval_hop_s >= 0, "--eval-hop-s", c.eval_hop_s, "0 or more (s)"),
        (c.max_train_records is None or c.max_train_records >= 1, "--max-train-records", c.max_train_records,
         "at least 1"),
        (c.patience is None or c.patience >= 1, "--patience", c.patience, "at least 1"),
        (c.freeze >= 0, "--freeze", c.freeze, "0 or more"),
        (c.unfreeze_after is None or c.unfreeze_after >= 0, "--unfreeze-after", c.unfreeze_after, "0 or more"),
        (c.signal_filter in FILTERS, "--signal-filter", c.signal_filter, f"one of {', '.join(FILTERS)}"),
        (c.lr_schedule in ("constant", "cosine"), "--lr-schedule", c.lr_schedule, "constant or cosine"),
        (c.optimizer in ("adam", "sgd", "rmsprop"), "--optimizer", c.optimizer, "adam, sgd or rmsprop"),
        (c.wandb in WANDB_MODES, "--wandb", c.wandb, "disabled, offline or online"),
    ]
    for ok, flag, value, rule in checks:
        if not ok:
            raise ValueError(f"{flag} must be {rule}, got {value}")
    if c.dataset in ("ptbxl", "synthetic"):
        for flag, folds in (("--train-folds", c.train_folds), ("--val-folds", c.val_folds),
                            ("--test-folds", c.test_folds)):
            bad = [f for f in folds or () if not 1 <= f <= 10]
            if bad:
                raise ValueError(f"{flag}: PTB-XL folds are 1-10, got {', '.join(map(str, bad))}")
    return config


def load_yaml(path: str) -> dict[str, Any]:
    with open(path) as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            raise ValueError(f"{path} is not valid YAML{line}: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must hold a mapping of keys to values")
    return data


def save(config: TrainConfig, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with replacing(path) as tmp, open(tmp, "w") as f:
        yaml.safe_dump(dataclasses.asdict(config), f, sort_keys=False)


def load(path: str) -> TrainConfig:
    """Reads a saved ``config.yaml`` back into a :class:`TrainConfig`.

    Raises:
        ValueError: the file is empty (train.py always writes every field, so an empty one is
            damaged; read as defaults it would describe another run).
    """
    data = load_yaml(path)
    if not data:
        raise ValueError(f"{path} is empty: a run's config.yaml lists every setting (train.py writes it)")
    return merge(TrainConfig(), data, path)


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
