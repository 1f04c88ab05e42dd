"""Class weights and the prior shift that undoes them in the saved single-label model."""

import json
import os
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from data_builders import write_cinc2017
from ecgtf.data.tasks import Task
from ecgtf.evaluation.thresholds import shift_probabilities
from ecgtf.training.priors import balanced_weights, can_fold, fold_into_head, prior_shift, record_weights

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import train as train_script  # noqa: E402

AF4 = Task("af4", tuple("NAO~"), "multiclass", "cinc2017_f1")


def test_shift_turns_the_balanced_optimum_into_the_class_frequencies():
    # With no information in the input, class-weighted cross-entropy is minimised by
    # p_k proportional to w_k * n_k, i.e. uniform; the shift must give back n_k / n.
    counts = np.array([60, 9, 28, 3])
    y = np.repeat(np.eye(4), counts, axis=0)
    w = balanced_weights(AF4, y, "auto")
    balanced = w * counts / (w * counts).sum()
    np.testing.assert_allclose(balanced, 0.25)
    shifted = shift_probabilities(balanced[None, :], prior_shift(AF4, w))
    np.testing.assert_allclose(shifted[0], counts / counts.sum(), rtol=1e-6)


def test_weights_come_from_the_given_labels_and_balance_them():
    y = np.eye(4)[[0] * 6 + [1] * 2 + [2] * 3 + [3]]
    per_record = record_weights(AF4, y, balanced_weights(AF4, y, "auto"))
    np.testing.assert_allclose([per_record[y[:, c] == 1].sum() for c in range(4)], 3.0)
    assert balanced_weights(AF4, y, "none") is None
    with pytest.raises(ValueError, match="auto or none"):
        balanced_weights(AF4, y, "balanced")


def test_weights_are_sklearns_balanced_ones_and_an_absent_class_weighs_as_one_record():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.eye(4)[[0] * 6 + [1] * 2 + [2] * 4]  # no "~"
    w = balanced_weights(AF4, y, "auto")
    np.testing.assert_allclose(w[:3], compute_class_weight("balanced", classes=np.arange(3), y=y.argmax(1)))
    assert w[3] == pytest.approx(12 / 3)  # n / (present classes * 1): finite prior shift
    assert np.isfinite(prior_shift(AF4, w)).all()


def test_only_weighted_single_label_tasks_are_shifted():
    w = np.array([0.5, 2.0, 1.0, 4.0])
    assert prior_shift(AF4, w, "balanced") is None
    assert prior_shift(AF4, None) is None
    assert prior_shift(Task("mi_vs_norm", ("NORM", "MI"), "binary", "auc"), w[:2]) is None
    assert prior_shift(Task("sd", tuple("ABCD"), "multilabel", "macro_auc"), w) is None
    shift = prior_shift(AF4, w)
    assert shift.mean() == pytest.approx(0.0, abs=1e-12)
    assert np.argsort(shift).tolist() == [3, 1, 2, 0]  # the most up-weighted class is pushed down most
    with pytest.raises(ValueError, match="decision-prior"):
        prior_shift(AF4, w, "uniform")


def _softmax_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="predictions")(hidden))


def test_folding_into_the_head_equals_shifting_the_probabilities():
    model = _softmax_model()
    x = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)
    before = model.predict(x, verbose=0)
    shift = np.array([0.8, -1.2, 0.3, -2.0])
    fold_into_head(model, shift)
    np.testing.assert_allclose(model.predict(x, verbose=0), shift_probabilities(before, shift), atol=1e-6)
    fold_into_head(model, -shift)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, atol=1e-6)


def test_folding_needs_a_softmax_dense_head():
    inputs = keras.Input((5,))
    sigmoid = keras.Model(inputs, keras.layers.Dense(4, activation="sigmoid")(inputs))
    assert not can_fold(sigmoid) and can_fold(_softmax_model())
    with pytest.raises(ValueError, match="softmax"):
        fold_into_head(sigmoid, np.zeros(4))
    with pytest.raises(ValueError, match="4 outputs"):
        fold_into_head(_softmax_model(), np.zeros(3))


@pytest.fixture(scope="module")
def skewed_af(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("skewed")
    labels = {f"A{i:05d}": label for i, label in enumerate("N" * 20 + "A" * 4 + "O" * 8 + "~" * 4, start=1)}
    return write_cinc2017(tmp / "d", labels, seconds=4.0), str(tmp / "cache")


def _argv(root, cache, out, *extra):
    return ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", cache,
            "--sampling-rate", "100", "--duration-s", "3", "--epochs", "2", "--batch-size", "8",
            "--out", str(out), "--verbose", "0", *extra]


def _head_bias(path):
    import keras

    from ecgtf.inputs.specs import split_model

    return split_model(keras.models.load_model(str(path), compile=False))[1].get_layer("predictions").get_weights()[1]


def test_run_saves_the_shifted_model_and_resume_starts_from_the_unshifted_one(skewed_af, tmp_path, monkeypatch):
    import evaluate as evaluate_script
    from ecgtf.training import trainer

    root, cache = skewed_af
    run = tmp_path / "run"
    train_script.main(_argv(root, cache, run))
    shift = np.asarray(json.loads((run / "thresholds.json").read_text())["prior_shift"])
    # training classes N 16, A 3, O 6, ~ 3 (80 % of 20/4/8/4): the rare ones are pushed down
    assert shift[0] > shift[2] > max(shift[1], shift[3])
    # model.keras is the checkpoint (the best epoch as trained) with the shift folded in once.
    np.testing.assert_allclose(_head_bias(run / "model.keras"), _head_bias(run / "checkpoint.keras") + shift,
                               atol=1e-6)
    written = pd.read_csv(run / "predictions.csv", dtype={"record_id": str}).filter(like="prob_").to_numpy()
    # Resuming the finished run trains nothing more and does not shift the model twice.
    result = train_script.main(["--resume", "--out", str(run), "--verbose", "0"])
    assert result.epochs_run == 2 and len(pd.read_csv(run / "history.csv")) == 2
    again = pd.read_csv(run / "predictions.csv", dtype={"record_id": str}).filter(like="prob_").to_numpy()
    np.testing.assert_allclose(again, written, atol=1e-5)
    # Killed between saving the shifted model and writing thresholds.json: a resume still shifts once.
    (run / "thresholds.json").unlink()
    result = train_script.main(["--resume", "--out", str(run), "--verbose", "0"])
    np.testing.assert_allclose(_head_bias(run / "model.keras"), _head_bias(run / "checkpoint.keras") + shift,
                               atol=1e-6)
    # A kill while the checkpoint is written leaves the previous checkpoint whole.
    before = (run / "checkpoint.keras").read_bytes()

    def killed(self, path, *a, **k):
        with open(path, "wb") as f:
            f.write(b"PK\x03")
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer.keras.Model, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_atomic(trainer.keras.Sequential(), str(run / "checkpoint.keras"))
    assert (run / "checkpoint.keras").read_bytes() == before
    monkeypatch.undo()
    evaluate_script.main(["--run", str(run), "--split", "val", "--out", str(tmp_path / "ev.json")])
    scored = pd.read_csv(tmp_path / "ev_predictions.csv", dtype={"record_id": str}).filter(like="prob_").to_numpy()
    np.testing.assert_allclose(scored, written, atol=1e-5)


def test_balanced_decision_prior_keeps_the_weighted_head(skewed_af, tmp_path):
    root, cache = skewed_af
    train_script.main(_argv(root, cache, tmp_path / "run", "--decision-prior", "balanced"))
    assert json.loads((tmp_path / "run" / "thresholds.json").read_text())["prior_shift"] is None
