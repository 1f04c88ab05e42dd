"""Train/validation/test splits by each dataset's own rules.

PTB-XL splits by ``strat_fold`` (default: train 1-8, validate 9, test 10); the other
datasets take a stratified random split under a seed.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)

PTBXL_DEFAULT = {"train": list(range(1, 9)), "val": [9], "test": [10]}


def split(data, *, train_folds=None, val_folds=None, test_folds=None, val_fraction: float = 0.2,
          seed: int = 0, notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Positions of the train, validation and test records in ``data``.

    Args:
        data: a :class:`ecgtf.data.datasets.LoadedData`.
        train_folds, val_folds, test_folds: PTB-XL fold numbers; defaults 1-8 / 9 / 10.
            A default fold that is absent falls back (validation: the last training
            fold; test: none) and the fallback is said in ``notes``.
        val_fraction: share of records for validation on the other datasets.
        seed: seed of the stratified split.
        notes: a list that receives one sentence per fallback taken.

    Returns:
        ``{"train": idx, "val": idx, "test": idx}`` (``test`` may be empty).
    """
    notes = notes if notes is not None else []
    if "fold" in data.meta.columns:
        return _by_fold(data, train_folds, val_folds, test_folds, notes)
    strat = _strata(data.labels, data.task.kind)
    idx = np.arange(len(data))
    try:
        train, val = train_test_split(idx, test_size=val_fraction, random_state=seed, stratify=strat)
    except ValueError:
        notes.append("some class has fewer than 2 records: the validation split is not stratified")
        train, val = train_test_split(idx, test_size=val_fraction, random_state=seed)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.array([], dtype=np.int64)}


def _by_fold(data, train_folds, val_folds, test_folds, notes):
    folds = data.meta["fold"].astype(int).to_numpy()
    present = set(np.unique(folds).tolist())
    chosen = {"train": train_folds, "val": val_folds, "test": test_folds}
    for part, default in PTBXL_DEFAULT.items():
        if chosen[part] is None:
            avail = [f for f in default if f in present]
            if part == "train":
                taken = set((val_folds or []) + (test_folds or []))
                avail = [f for f in default if f in present and f not in taken]
            chosen[part] = avail
            if len(avail) < len(default):
                missing = sorted(set(default) - present)
                if missing:
                    notes.append(f"default {part} fold(s) {missing} are absent from this copy of PTB-XL")
    if not chosen["val"]:
        last = max(chosen["train"])
        chosen["train"] = [f for f in chosen["train"] if f != last]
        chosen["val"] = [last]
        notes.append(f"validating on fold {last} instead (training on folds {_fmt(chosen['train'])})")
    for part, wanted in chosen.items():
        missing = sorted(set(wanted) - present)
        if missing and part != "test":
            raise ValueError(f"{part} fold(s) {missing} have no records here; folds present: {sorted(present)}")
    overlap = set(chosen["train"]) & (set(chosen["val"]) | set(chosen["test"]))
    if overlap:
        raise ValueError(f"fold(s) {sorted(overlap)} are both in training and in validation/test")
    return {part: np.flatnonzero(np.isin(folds, wanted)) for part, wanted in chosen.items()}


def _strata(labels: np.ndarray, kind: str) -> np.ndarray:
    if kind == "multiclass":
        return labels.argmax(axis=1)
    if kind == "binary":
        return labels[:, 0]
    # Multi-label: stratify by the rarest positive class of each record (0 = none).
    freq = labels.sum(axis=0)
    order = np.argsort(freq)
    strata = np.zeros(len(labels), dtype=np.int64)
    for rank, c in enumerate(order[::-1]):
        strata[labels[:, c] > 0] = c + 1
    return strata


def _fmt(folds) -> str:
    return ", ".join(str(f) for f in folds)
