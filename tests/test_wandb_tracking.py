"""wandb tracking: one run per training (two phases, interrupted and resumed), what it logs,
and no wandb file outside the run folder. Offline mode: no network, no account."""

import dataclasses
import glob
import json
import os
import sys

import keras
import pandas as pd
import pytest

from data_builders import write_cinc2017
from ecgtf import config as cfglib
from ecgtf.models import registry
from ecgtf.tracking import RUN_ID_FILE, abort_current, start_run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import train as train_script  # noqa: E402


def _build(input_shape, num_classes, *, activation="softmax"):
    """A tiny two-phase model: its convolution is frozen in phase 1."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Conv1D(4, 9, strides=4, name="frozen_conv")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("frozen_conv").trainable = False
    return model


def _unfreeze(model):
    for layer in model.layers:
        layer.trainable = True
    return model


class Interrupt(keras.callbacks.Callback):
    """Stops the run at the start of epoch ``at`` (0-based), as a kill would."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Offline wandb with HOME (and the temp folder) moved into tmp_path, and spies on the run."""
    import wandb
    from wandb.sdk import wandb_run

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for key in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setitem(registry._REGISTRY, "two_phase_test", registry.ModelEntry(
        "two_phase_test", _build, "raw", {}, "tiny two-phase test model", _unfreeze))
    seen = {"init": [], "log": set(), "artifacts": [], "summary": []}
    init, log, log_artifact, finish = wandb.init, wandb_run.Run.log, wandb_run.Run.log_artifact, wandb_run.Run.finish

    def spy_init(**kwargs):
        seen["init"].append(kwargs)
        return init(**kwargs)

    def spy_log(self, data, *args, **kwargs):
        seen["log"].update(data)
        return log(self, data, *args, **kwargs)

    def spy_artifact(self, artifact, *args, **kwargs):
        seen["artifacts"].append((artifact.type, sorted(artifact.manifest.entries)))
        return log_artifact(self, artifact, *args, **kwargs)

    def spy_finish(self, *args, **kwargs):
        seen["summary"].append({k: self.summary[k] for k in self.summary.keys()})
        return finish(self, *args, **kwargs)

    monkeypatch.setattr(wandb, "init", spy_init)
    monkeypatch.setattr(wandb_run.Run, "log", spy_log)
    monkeypatch.setattr(wandb_run.Run, "log_artifact", spy_artifact)
    monkeypatch.setattr(wandb_run.Run, "finish", spy_finish)
    return seen


def test_two_phase_run_interrupted_and_resumed_is_one_wandb_run(tmp_path, offline):
    from ecgtf.training.resolve import resolve_config
    from ecgtf.training.trainer import train

    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 33)}
    root = write_cinc2017(tmp_path / "d", labels, seconds=3.0)
    run = tmp_path / "run"
    cfg = resolve_config({"model": "two_phase_test", "dataset": "cinc2017", "data_dir": str(root),
                          "cache_dir": str(tmp_path / "cache"), "sampling_rate": 100, "duration_s": 2,
                          "epochs": 3, "unfreeze_after": 1, "batch_size": 8, "test_fraction": 0.25,
                          "out": str(run), "verbose": 0, "wandb": "offline"})
    with pytest.raises(KeyboardInterrupt):  # killed in phase 2, after its first epoch
        train(cfg, callbacks=[Interrupt(at=2)])
    abort_current()  # what the dying process leaves: the run ended, unfinished
    assert os.path.isfile(run / "phase1.weights.h5")
    result = train_script.main(["--resume", "--out", str(run), "--verbose", "0"])

    run_id = (run / RUN_ID_FILE).read_text().strip()
    assert [(k["id"], k["resume"], k["mode"]) for k in offline["init"]] == [(run_id, "allow", "offline")] * 2
    parts = sorted(glob.glob(str(run / "wandb" / "offline-run-*")))
    assert len(parts) == 2 and all(p.endswith(f"-{run_id}") for p in parts)  # one wandb run, synced as one
    assert list(pd.read_csv(run / "history.csv")["epoch"]) == [0, 1, 2] and result.epochs_run == 3
    assert {"epoch/loss", "epoch/val_cinc2017_f1", "epoch/learning_rate", "val_cinc2017_f1", "val/confusion_matrix",
            "val/roc", "confusion_matrix", "final/confusion_matrix", "final/roc"} <= offline["log"]
    summary = offline["summary"][-1]
    metrics = json.loads((run / "metrics.json").read_text())
    test_metrics = json.loads((run / "test_metrics.json").read_text())
    assert summary["val_cinc2017_f1"] == pytest.approx(metrics["cinc2017_f1"])
    assert summary["test_cinc2017_f1"] == pytest.approx(test_metrics["cinc2017_f1"])
    models = [a for a in offline["artifacts"] if a[0] == "model"]  # (wandb.plot tables are run_table artifacts)
    assert models == [("model", ["model.keras"])]  # once, at the end, not per epoch

    # Every wandb file is inside the run folder: nothing in HOME, nothing beside the run.
    home_files = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "home") for f in fs]
    assert not [p for p in home_files if "wandb" in p.lower()], home_files
    outside = [p for p in glob.glob(str(tmp_path / "**" / "*wandb*"), recursive=True)
               if not p.startswith(str(run) + os.sep)]
    assert outside == []
    for key in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        assert key not in os.environ  # restored when the run finished


def test_disabled_and_old_config_values(tmp_path, monkeypatch):
    from ecgtf.training.cli import build_parser

    p = build_parser()
    assert p.parse_args([]).wandb is None and cfglib.TrainConfig().wandb == "disabled"
    assert p.parse_args(["--wandb"]).wandb == "online"
    assert p.parse_args(["--wandb", "offline"]).wandb == "offline"
    with pytest.raises(SystemExit):
        p.parse_args(["--wandb", "sometimes"])
    old = tmp_path / "config.yaml"
    old.write_text("wandb: true\nepochs: 2\n")
    assert cfglib.load(str(old)).wandb == "online"
    old.write_text("wandb: false\n")
    assert cfglib.load(str(old)).wandb == "disabled"
    with pytest.raises(ValueError, match="--wandb"):
        cfglib.validate(dataclasses.replace(cfglib.TrainConfig(), wandb="yes"))
    monkeypatch.setenv("WANDB_MODE", "disabled")  # CI: off whatever the config says
    tracker = start_run(dataclasses.replace(cfglib.TrainConfig(), wandb="online"), str(tmp_path / "run"))
    assert not tracker.active and not (tmp_path / "run").exists()
    tracker.finish({"f1": 1.0})  # does nothing
