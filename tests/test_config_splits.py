"""Typed config merging and the dataset splits."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ecgtf.config import TrainConfig, load, merge, parse_folds, save
from ecgtf.data.tasks import Task
from ecgtf.training.splits import split


def test_parse_folds():
    assert parse_folds("1-3,7") == [1, 2, 3, 7]
    assert parse_folds(["8", "1-2"]) == [1, 2, 8]
    assert parse_folds(None) is None


def test_merge_rejects_unknown_keys_and_round_trips(tmp_path):
    cfg = merge(TrainConfig(), {"epochs": 3, "model": "ribeiro"}, "flags")
    assert cfg.epochs == 3
    with pytest.raises(KeyError, match="epoks"):
        merge(cfg, {"epoks": 2}, "my.yaml")
    save(cfg, tmp_path / "config.yaml")
    assert load(str(tmp_path / "config.yaml")) == cfg


def test_an_empty_saved_config_is_refused_not_read_as_defaults(tmp_path):
    from ecgtf.training.saved import load_run

    (tmp_path / "config.yaml").write_text("")
    (tmp_path / "model.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="config.yaml is empty"):
        load(str(tmp_path / "config.yaml"))
    with pytest.raises(ValueError, match="config.yaml cannot be read: .* is empty"):
        load_run(str(tmp_path))


@dataclasses.dataclass
class Fake:
    labels: np.ndarray
    meta: pd.DataFrame
    task: Task

    def __len__(self):
        return len(self.labels)


def fake_ptbxl(folds):
    folds = np.asarray(folds)
    labels = (np.arange(len(folds)) % 2).reshape(-1, 1).astype(np.int8)
    return Fake(labels, pd.DataFrame({"fold": folds}), Task("mi", ("o", "MI"), "binary", "auc"))


def test_ptbxl_default_folds_and_fallback():
    data = fake_ptbxl(np.repeat(np.arange(1, 11), 3))
    parts = split(data)
    assert set(data.meta["fold"][parts["val"]]) == {9} and set(data.meta["fold"][parts["test"]]) == {10}
    assert set(data.meta["fold"][parts["train"]]) == set(range(1, 9))
    # Only folds 1-8 present: validate on 8, say so, and never on nothing.
    data = fake_ptbxl(np.repeat(np.arange(1, 9), 3))
    notes = []
    parts = split(data, notes=notes)
    assert set(data.meta["fold"][parts["val"]]) == {8} and len(parts["test"]) == 0
    assert any("absent" in n for n in notes) and any("fold 8" in n for n in notes)
    parts = split(data, train_folds=[1, 2, 3, 4, 5, 6], val_folds=[7], test_folds=[8])
    assert set(data.meta["fold"][parts["test"]]) == {8}
    with pytest.raises(ValueError, match="overlap|both"):
        split(data, train_folds=[1, 2], val_folds=[2])
    with pytest.raises(ValueError, match="no records"):
        split(data, train_folds=[1], val_folds=[9])


def test_stratified_split_is_seeded_and_stratified():
    y = np.eye(4, dtype=np.int8)[np.r_[np.zeros(60, int), np.ones(20, int), np.full(15, 2), np.full(5, 3)]]
    data = Fake(y, pd.DataFrame({"record_id": range(100)}), Task("af4", tuple("NAO~"), "multiclass", "cinc2017_f1"))
    a, b = split(data, seed=1), split(data, seed=1)
    np.testing.assert_array_equal(a["val"], b["val"])
    assert len(a["val"]) == 20 and not set(a["val"]) & set(a["train"])
    np.testing.assert_array_equal(y[a["val"]].sum(0), [12, 4, 3, 1])
    assert not np.array_equal(split(data, seed=2)["val"], a["val"])


def test_stratified_test_share_is_held_out_first():
    y = np.eye(4, dtype=np.int8)[np.r_[np.zeros(60, int), np.ones(20, int), np.full(15, 2), np.full(5, 3)]]
    data = Fake(y, pd.DataFrame({"record_id": range(100)}), Task("af4", tuple("NAO~"), "multiclass", "cinc2017_f1"))
    no_test = split(data, seed=1)
    parts = split(data, seed=1, val_fraction=0.2, test_fraction=0.2)
    assert len(parts["test"]) == 20 and len(parts["val"]) == 20 and len(parts["train"]) == 60
    assert len(np.unique(np.concatenate(list(parts.values())))) == 100  # disjoint and complete
    np.testing.assert_array_equal(y[parts["test"]].sum(0), [12, 4, 3, 1])
    np.testing.assert_array_equal(y[parts["val"]].sum(0), [12, 4, 3, 1])
    # Without a test share the validation split is the one earlier runs used: a single
    # stratified draw of 20 % of all records under the seed.
    from sklearn.model_selection import train_test_split
    _, earlier_val = train_test_split(np.arange(100), test_size=0.2, random_state=1, stratify=y.argmax(axis=1))
    assert len(no_test["test"]) == 0
    np.testing.assert_array_equal(no_test["val"], np.sort(earlier_val))
    with pytest.raises(ValueError, match="val_fraction"):
        split(data, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="test folds"):
        split(fake_ptbxl(np.repeat(np.arange(1, 9), 3)), test_fraction=0.2)


def test_learning_rate_schedules():
    from ecgtf.training.trainer import learning_rate

    assert learning_rate(TrainConfig(lr_schedule="constant"), 0.01, 10, 5) == 0.01
    schedule = learning_rate(TrainConfig(lr_schedule="cosine"), 0.01, 10, 5)
    at = [float(schedule(step)) for step in (0, 5, 10, 30, 50)]
    assert at[0] == pytest.approx(0.0, abs=1e-9)          # warm-up starts at 0
    assert at[1] == pytest.approx(0.005, rel=1e-3)        # half-way through the 1-epoch warm-up
    assert at[2] == pytest.approx(0.01, rel=1e-3)         # peak after one epoch
    assert at[2] > at[3] > at[4]
    assert at[4] == pytest.approx(0.0, abs=1e-6)          # decayed to 0 at the end of the phase
    with pytest.raises(ValueError, match="constant or cosine"):
        learning_rate(TrainConfig(lr_schedule="step"), 0.01, 10, 5)


def test_frozen_layers_decides_whether_a_second_phase_makes_sense():
    import keras

    from ecgtf.training.trainer import frozen_layers

    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(4, name="hidden")
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden(inputs)))
    assert frozen_layers(model) == []          # random init, all trainable: one phase
    hidden.trainable = False
    assert frozen_layers(model) == ["hidden"]
