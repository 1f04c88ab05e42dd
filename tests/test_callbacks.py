"""Tests for ecgtf.callbacks on a tiny Keras model and tiny data."""

import glob
import os
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from ecgtf.callbacks import ConfusionMatrixImage, ValidationScores, WandbValidationPlots
from ecgtf.data.tasks import Task
from ecgtf.evaluation.scores import compute_metrics

AF4 = Task("af4", ("N", "A", "O", "~"), "multiclass", "cinc2017_f1")


def _data(n=48, samples=32, leads=2, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, n)
    x = rng.normal(size=(n, samples, leads)).astype("float32")
    x[:, :, 0] += idx[:, None] * 0.5  # learnable signal
    return x, np.eye(4, dtype="float32")[idx]


def _model(samples=32, leads=2, classes=4, activation="softmax"):
    inputs = keras.Input((samples, leads))
    h = keras.layers.GlobalAveragePooling1D()(inputs)
    outputs = keras.layers.Dense(classes, activation=activation, name="predictions")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="categorical_crossentropy")
    return model


def test_validation_scores_writes_keys_equal_to_compute_metrics(capsys):
    x, y = _data()
    val = tf.data.Dataset.from_tensor_slices(_data(seed=1)).batch(10)  # last batch is partial
    model = _model()
    scores = ValidationScores(AF4, val)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[scores])
    for key in ("val_cinc2017_f1", "val_macro_auc", "val_macro_f1", "val_accuracy", "val_F1_A"):
        assert len(history.history[key]) == 2
    assert "val_per_class" not in history.history and "val_confusion_matrix" not in history.history
    xv, yv = _data(seed=1)
    expected = compute_metrics(AF4, yv, model.predict(xv, verbose=0))
    assert scores.last_y_prob.shape == (48, 4)
    np.testing.assert_array_equal(scores.last_y_true, yv)
    assert history.history["val_cinc2017_f1"][-1] == pytest.approx(expected["cinc2017_f1"], abs=1e-6)
    assert history.history["val_macro_auc"][-1] == pytest.approx(expected["macro_auc"], abs=1e-5)
    assert scores.last_metrics["confusion_matrix"] == expected["confusion_matrix"]
    assert "cinc2017_f1" in capsys.readouterr().out


def test_validation_scores_score_the_prior_shifted_probabilities():
    from ecgtf.evaluation.thresholds import shift_probabilities

    x, y = _data()
    xv, yv = _data(seed=1)
    model = _model()
    shift = np.array([2.0, -1.0, 0.5, -1.5])
    scores = ValidationScores(AF4, (xv, yv), verbose=0, prior_shift=shift)
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[scores])
    shifted = shift_probabilities(model.predict(xv, verbose=0), shift)
    np.testing.assert_allclose(scores.last_y_prob, shifted, atol=1e-5)
    expected = compute_metrics(AF4, yv, shifted)
    assert history.history["val_cinc2017_f1"][-1] == pytest.approx(expected["cinc2017_f1"], abs=1e-6)
    assert scores.last_metrics["confusion_matrix"] == expected["confusion_matrix"]


def test_validation_scores_array_tuple_binary_and_every():
    task = Task("mi", ("other", "MI"), "binary", "auc")
    x, y4 = _data()
    y = y4[:, :1]
    model = _model(classes=1, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    scores = ValidationScores(task, (x, y.ravel()), thresholds=[0.3], every=2, verbose=0)
    logs_seen = []
    spy = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs_seen.append(dict(logs)))
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[scores, spy])
    assert "val_auc" in logs_seen[0] and "val_auc" not in logs_seen[1] and "val_auc" in logs_seen[2]
    assert logs_seen[0]["val_threshold"] == pytest.approx(0.3)
    expected = compute_metrics(task, y, model.predict(x, verbose=0), thresholds=[0.3])
    assert logs_seen[2]["val_sensitivity"] == pytest.approx(expected["sensitivity"])


def test_model_checkpoint_after_validation_scores_saves_on_best(tmp_path):
    x, y = _data()
    val = _data(seed=1)
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy")
    scores = ValidationScores(AF4, val, verbose=0)
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "w{epoch:02d}.weights.h5"), monitor="val_cinc2017_f1",
                                           mode="max", save_best_only=True, save_weights_only=True)
    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0, callbacks=[scores, ckpt])
    values = history.history["val_cinc2017_f1"]
    best, expected = -np.inf, set()
    for epoch, v in enumerate(values):
        if v > best:
            best = v
            expected.add(f"w{epoch + 1:02d}.weights.h5")
    saved = {os.path.basename(p) for p in glob.glob(str(tmp_path / "*.weights.h5"))}
    assert saved == expected
    assert len(set(np.round(values, 6))) > 1  # the scores moved, so the check means something


def test_confusion_matrix_image_png_and_tensorboard(tmp_path):
    x, y = _data()
    model = _model()
    scores = ValidationScores(AF4, _data(seed=1), verbose=0)
    images = ConfusionMatrixImage(scores, AF4.classes, str(tmp_path / "cm"), tensorboard_dir=str(tmp_path / "tb"),
                                  use_wandb=True)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[scores, images])
    names = sorted(os.listdir(tmp_path / "cm"))
    assert names == ["confusion_matrix.png", "confusion_matrix_epoch001.png", "confusion_matrix_epoch002.png"]
    for name in names:
        assert os.path.getsize(tmp_path / "cm" / name) > 5000
    events = glob.glob(str(tmp_path / "tb" / "events.out.tfevents.*"))
    assert len(events) == 1
    values = [(e.step, v) for e in tf.compat.v1.train.summary_iterator(events[0]) for v in e.summary.value]
    assert [(step, v.tag) for step, v in values] == [(0, "confusion_matrix"), (1, "confusion_matrix")]
    assert values[0][1].metadata.plugin_data.plugin_name == "images"


def test_confusion_matrix_image_multilabel(tmp_path):
    task = Task("superdiagnostic", ("NORM", "MI", "STTC"), "multilabel", "macro_auc")
    x, y4 = _data()
    y = y4[:, :3]
    model = _model(classes=3, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    scores = ValidationScores(task, (x, y), verbose=0)
    images = ConfusionMatrixImage(scores, task.classes, str(tmp_path))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[scores, images])
    assert np.array(scores.last_metrics["confusion_matrix"]).shape == (3, 2, 2)
    assert os.path.getsize(tmp_path / "confusion_matrix_epoch001.png") > 5000


class _FakeWandb(types.ModuleType):
    def __init__(self):
        super().__init__("wandb")
        self.run = None
        self.logged = []
        self.plot = types.SimpleNamespace(
            confusion_matrix=lambda **kw: ("confusion_matrix", len(kw["y_true"]), tuple(kw["class_names"])),
            roc_curve=lambda truth, probs, labels=None, **kw: ("roc", np.shape(probs), tuple(labels)))

    def log(self, row):
        self.logged.append(row)

    def define_metric(self, *args, **kwargs):
        pass

    def Image(self, array, caption=None):  # noqa: N802 (wandb's name)
        return ("image", array.shape, caption)


def test_wandb_plots_disabled_logs_nothing(monkeypatch):
    fake = _FakeWandb()
    fake.run = object()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    x, y = _data(n=16)
    scores = ValidationScores(AF4, _data(seed=1), verbose=0)
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[scores, WandbValidationPlots(scores, AF4.classes)])
    assert fake.logged == []


def test_wandb_plots_and_image_with_a_run(monkeypatch, tmp_path):
    fake = _FakeWandb()
    fake.run = object()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setenv("WANDB_MODE", "offline")
    x, y = _data()
    scores = ValidationScores(AF4, _data(seed=1), verbose=0)
    images = ConfusionMatrixImage(scores, AF4.classes, str(tmp_path), use_wandb=True)
    plots = WandbValidationPlots(scores, AF4.classes, watch=["val_cinc2017_f1"])
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[scores, images, plots])
    rows = [r for r in fake.logged if "val/roc" in r]
    assert [r["epoch/epoch"] for r in rows] == [0, 1]
    assert rows[0]["val/confusion_matrix"] == ("confusion_matrix", 48, tuple(AF4.classes))
    assert rows[0]["val/roc"] == ("roc", (48, 4), tuple(AF4.classes))
    assert isinstance(rows[0]["val_cinc2017_f1"], float)
    assert sum("confusion_matrix" in r for r in fake.logged) == 2  # the PNG picture, once per epoch
