"""End-to-end training on a tiny dataset: run folder contents, evaluation, resume."""

import json
import os
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from data_builders import write_cinc2017

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import evaluate as evaluate_script  # noqa: E402
import train as train_script  # noqa: E402

RUN_FILES = ("config.yaml", "model.keras", "history.csv", "metrics.json", "predictions.csv", "thresholds.json",
             "confusion_matrix.png", "roc.png", "training_curves.png", "skipped.csv")


@pytest.fixture(scope="module")
def tiny_af(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("af")
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 33)}
    labels["A00099"] = "X"  # a bad label: skipped and listed
    return write_cinc2017(tmp / "d", labels, seconds=4.0), str(tmp / "cache")


def argv(root, cache, out, *extra):
    return ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", cache,
            "--sampling-rate", "100", "--duration-s", "3", "--epochs", "2", "--batch-size", "8",
            "--out", str(out), "--verbose", "0", *extra]


def test_train_writes_run_folder_and_evaluate_reproduces(tiny_af, tmp_path, capsys):
    root, cache = tiny_af
    result = train_script.main(argv(root, cache, tmp_path / "run", "--standardize"))
    for name in RUN_FILES:
        assert os.path.isfile(tmp_path / "run" / name), name
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ("cinc2017_f1", "macro_auc", "per_class", "confusion_matrix"):
        assert key in metrics
    assert set(metrics["per_class"]) == {"N", "A", "O", "~"}
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 2
    assert "A00099" in (tmp_path / "run" / "skipped.csv").read_text()
    out = capsys.readouterr().out
    assert "cinc2017_f1" in out and "per-class F1" in out and "1 skipped" in out
    # evaluate.py on the validation split gives the same scores as training wrote.
    again = evaluate_script.main(["--run", result.run_dir, "--split", "val", "--out", str(tmp_path / "ev.json")])
    assert again["cinc2017_f1"] == pytest.approx(metrics["cinc2017_f1"], abs=1e-6)
    assert os.path.isfile(tmp_path / "ev_confusion_matrix.png")
    # Both write per-record predictions, and they agree.
    saved = pd.read_csv(tmp_path / "run" / "predictions.csv", dtype={"record_id": str})
    again_rows = pd.read_csv(tmp_path / "ev_predictions.csv", dtype={"record_id": str})
    assert list(saved.columns) == ["record_id", *[f"true_{c}" for c in "NAO~"], *[f"prob_{c}" for c in "NAO~"]]
    assert len(saved) == metrics["n_records"] and saved["record_id"].is_unique
    np.testing.assert_allclose(saved[[f"prob_{c}" for c in "NAO~"]].sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(again_rows.filter(like="prob_").to_numpy(), saved.filter(like="prob_").to_numpy(),
                               atol=1e-5)


class Interrupt(keras.callbacks.Callback):
    """Raises in the middle of the second epoch, as a killed process would stop."""

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch == 1 and batch == 1:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_resume_after_interrupt_finishes_all_epochs(tiny_af, tmp_path, monkeypatch):
    from ecgtf.training import trainer

    root, cache = tiny_af
    original = trainer._callbacks
    monkeypatch.setattr(trainer, "_callbacks", lambda *a, **k: original(*a, **k) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        train_script.main(argv(root, cache, tmp_path / "run", "--epochs", "3"))
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 1
    monkeypatch.setattr(trainer, "_callbacks", original)
    result = train_script.main(["--resume", "--out", str(tmp_path / "run"), "--verbose", "0"])
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2]
    assert result.epochs_run == 3


def test_resume_of_a_finished_run_never_trains_it_again_from_scratch(tiny_af, tmp_path, capsys):
    """Keras drops its backups when a fit ends: a finished run resumed with more epochs is refused
    (it would have restarted from fresh weights and overwritten the model), with the same
    epochs it is only reported again; folders from before fit_done.json behave the same."""
    from ecgtf.errors import run_cli
    from ecgtf.training import trainer

    root, cache = tiny_af
    run = tmp_path / "run"
    train_script.main(argv(root, cache, run))
    stamp = os.path.getmtime(run / "checkpoint.keras")
    assert json.loads((run / trainer.FIT_DONE).read_text()) == {"epochs": 2, "epochs_run": 2}
    for legacy in (False, True):
        if legacy:
            (run / trainer.FIT_DONE).unlink()
        assert run_cli(train_script.main, ["--resume", "--out", str(run), "--epochs", "4", "--verbose", "0"]) == 2
        err = capsys.readouterr().err
        assert "cannot add epochs" in err and "--init-from" in err and str(run) in err
        assert train_script.main(["--resume", "--out", str(run), "--verbose", "0"]).epochs_run == 2
        assert "reporting the best checkpoint again" in capsys.readouterr().out
        assert os.path.getmtime(run / "checkpoint.keras") == stamp and len(pd.read_csv(run / "history.csv")) == 2


def test_init_from_a_run_of_the_same_model_starts_from_its_checkpoint(tiny_af, tmp_path):
    from ecgtf.config import TrainConfig
    from ecgtf.data.datasets import task_for
    from ecgtf.models.registry import get_entry
    from ecgtf.models.transfer import load_pretrained
    from ecgtf.training.trainer import build_model

    root, cache = tiny_af
    train_script.main(argv(root, cache, tmp_path / "a", "--epochs", "1"))
    trained = load_pretrained(str(tmp_path / "a" / "checkpoint.keras"))
    cfg = TrainConfig(model="compact1d", init_from=str(tmp_path / "a"))
    task = task_for("cinc2017", "af4")
    network, _ = build_model(get_entry("compact1d"), cfg, trained.input_shape[1:], task, {})
    for a, b in zip(network.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="is not the one this run builds"):
        build_model(get_entry("compact1d"), cfg, trained.input_shape[1:], task, {"filters": [4]})


def test_unknown_model_lists_valid_names(capsys):
    with pytest.raises(KeyError, match="valid names: .*compact1d"):
        train_script.main(["--model", "no_such_net"])
    train_script.main(["--list-models"])
    assert "inception_spectrogram" in capsys.readouterr().out


def test_config_file_and_flags_precedence(tmp_path):
    from ecgtf.training.resolve import resolve_config

    (tmp_path / "c.yaml").write_text("model: compact1d\nepochs: 7\nlr: 0.01\nmodel_options: {width: 8}\n")
    cfg = resolve_config({"lr": 0.5, "model_options": {"dropout": 0.1}}, str(tmp_path / "c.yaml"))
    assert (cfg.model, cfg.epochs, cfg.lr) == ("compact1d", 7, 0.5)
    assert cfg.model_options["width"] == 8 and cfg.model_options["dropout"] == 0.1
    (tmp_path / "bad.yaml").write_text("epoch: 3\n")
    with pytest.raises(KeyError, match="bad.yaml"):
        resolve_config({}, str(tmp_path / "bad.yaml"))


def test_weight_decay_reaches_the_optimizer():
    from ecgtf.config import TrainConfig
    from ecgtf.data.datasets import task_for
    from ecgtf.training.trainer import compile_model

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
    task = task_for("ptbxl", "mi_vs_norm")
    compile_model(model, task, TrainConfig(optimizer="adam", weight_decay=0.01), 1e-3)
    assert model.optimizer.weight_decay == pytest.approx(0.01)
    compile_model(model, task, TrainConfig(optimizer="sgd"), 1e-3)
    assert model.optimizer.weight_decay is None
    with pytest.raises(ValueError, match="weight_decay"):
        compile_model(model, task, TrainConfig(weight_decay=-1.0), 1e-3)
