"""Train/validation/test splits by each dataset's own rules.

PTB-XL splits by ``strat_fold`` (default: train 1-8, validate 9, test 10); the other
datasets take a stratified random split under a seed (validation, and a test share if asked).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)

PTBXL_DEFAULT = {"train": list(range(1, 9)), "val": [9], "test": [10]}


def split(data, *, train_folds=None, val_folds=None, test_folds=None, val_fraction: float = 0.2,
          test_fraction: float = 0.0, seed: int = 0, notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Positions of the train, validation and test records in ``data``.

    Args:
        data: a :class:`ecgtf.data.datasets.LoadedData`.
        train_folds, val_folds, test_folds: PTB-XL fold numbers; defaults 1-8 / 9 / 10.
            A default fold that is absent falls back (validation: the last training
            fold; test: none) and the fallback is said in ``notes``.
        val_fraction: share of all records for validation on the other datasets.
        test_fraction: share of all records held out for testing on the other datasets
            (0: no test split). The test records are drawn first, so a run with a test
            split never selects its epoch or thresholds on them.
        seed: seed of the stratified splits.
        notes: a list that receives one sentence per fallback taken.

    Returns:
        ``{"train": idx, "val": idx, "test": idx}`` (``test`` may be empty).
    """
    notes = notes if notes is not None else []
    if "fold" in data.meta.columns:
        if test_fraction:
            raise ValueError("PTB-XL splits by its folds: use test folds (--test-folds), not a test fraction")
        return _by_fold(data, train_folds, val_folds, test_folds, notes)
    if not (0 < val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"need 0 < val_fraction, 0 <= test_fraction and val_fraction + test_fraction < 1, "
                         f"got {val_fraction} and {test_fraction}")
    strat = _strata(data.labels, data.task.kind)
    rest, test = np.arange(len(data)), np.array([], dtype=np.int64)
    if test_fraction:
        rest, test = _stratified(rest, test_fraction, strat, seed, "test", notes)
    # val_fraction is a share of all records, so of the rest it is val / (1 - test).
    train, val = _stratified(rest, val_fraction / (1 - test_fraction), strat, seed, "validation", notes)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def split_run(data, cfg, notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """:func:`split` with a run's :class:`~ecgtf.config.TrainConfig` (training and evaluation)."""
    return split(data, train_folds=cfg.train_folds, val_folds=cfg.val_folds, test_folds=cfg.test_folds,
                 val_fraction=cfg.val_fraction, test_fraction=cfg.test_fraction, seed=cfg.seed, notes=notes)


def _stratified(idx, share, strat, seed, part, notes):
    """``(kept, drawn)``: a ``share`` of ``idx`` drawn stratified by ``strat`` when every class allows."""
    try:
        return train_test_split(idx, test_size=share, random_state=seed, stratify=strat[idx])
    except ValueError:
        notes.append(f"some class has fewer than 2 records: the {part} split is not stratified")
        return train_test_split(idx, test_size=share, random_state=seed)


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
            raise ValueError(f"--{part}-folds {missing}: no records in those folds here; "
                             f"folds present: {sorted(present)}")
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
