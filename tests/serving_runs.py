"""Tiny run folders shared by the export and predict.py tests (one session-scoped fixture).

``tiny_runs`` trains a raw (``compact1d``) and a spectrogram (``spectrogram_cnn``) run for one
epoch on 16 CinC 2017-like records (300 Hz files, runs at 100 Hz, crop averaging with a 1 s hop),
and writes a median-beat run folder by hand (an untrained ``beat_cnn``: its export must be
refused, and predict.py must still score with it).
"""

import dataclasses
import json
import os
import sys

import pytest

from data_builders import write_cinc2017

SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "scripts")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

CLASSES = list("NAO~")


def _beat_run(out: str) -> str:
    from ecgtf import config as cfglib
    from ecgtf.atomic import replacing
    from ecgtf.inputs.runspec import RunSpec
    from ecgtf.inputs.specs import input_shape_of, with_prepare
    from ecgtf.models.registry import get_entry

    os.makedirs(out)
    spec = RunSpec(model="beat_cnn", dataset="cinc2017", task="af4", task_kind="multiclass", class_names=CLASSES,
                   sampling_rate=100.0, signal_filter="none", lead_names=["ECG"], window_samples=300,
                   eval_hop_samples=None, input_kind="median_beat", input_options={"before_s": 0.25, "after_s": 0.4},
                   standardize=False, graph_op=False)
    prepare = spec.build_prepare()
    network = get_entry("beat_cnn").builder(input_shape_of(prepare), 4, activation="softmax", stages=((4,),),
                                            dense=4)
    model = with_prepare(network, prepare)
    with replacing(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    spec.save(os.path.join(out, "run_spec.json"))
    cfglib.save(cfglib.TrainConfig(model="beat_cnn", dataset="cinc2017", sampling_rate=100.0, duration_s=3.0),
                os.path.join(out, "config.yaml"))
    return out


_RUNS: dict = {}  # one set per session: each test module that imports the fixture gets its own copy of it


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """``{"data": training2017 folder, "raw": run, "spectrogram": run, "median_beat": run}``."""
    if not _RUNS:
        _RUNS.update(_make_runs(tmp_path_factory.mktemp("serving")))
    return dict(_RUNS)


_EXPORTS: dict = {}


@pytest.fixture(scope="session")
def tiny_exports(tiny_runs, tmp_path_factory):
    """``({"raw": version folder, "spectrogram": version folder}, base folder)``: the runs of
    :func:`tiny_runs` exported with scripts/export.py."""
    import export as export_script

    if not _EXPORTS:
        out = tmp_path_factory.mktemp("exports")
        _EXPORTS["paths"] = {kind: export_script.main(["--run", tiny_runs[kind], "--out", str(out)])
                             for kind in ("raw", "spectrogram")}
        _EXPORTS["base"] = out
    return dict(_EXPORTS["paths"]), _EXPORTS["base"]


def _make_runs(tmp) -> dict:
    import train as train_script

    labels = {f"A{i:05d}": CLASSES[i % 4] for i in range(1, 17)}
    root = write_cinc2017(tmp / "d", labels, seconds=4.0)
    common = ["--dataset", "cinc2017", "--data-dir", root, "--cache-dir", str(tmp / "cache"), "--sampling-rate",
              "100", "--duration-s", "3", "--epochs", "1", "--batch-size", "8", "--verbose", "0",
              "--eval-hop-s", "1", "--option", "filters=[8]", "--option", "stem_filters=8"]
    raw = train_script.main(["--model", "compact1d", "--out", str(tmp / "raw"), *common]).run_dir
    spec = train_script.main(["--model", "spectrogram_cnn", "--option", "image_size=[32,32]",
                              "--out", str(tmp / "spec"), *common]).run_dir
    return {"data": os.path.join(root, "training2017"), "raw": raw, "spectrogram": spec,
            "median_beat": _beat_run(str(tmp / "beat"))}


def printout_run(out: str, kind: str) -> str:
    """A run folder of an untrained printout model (``image`` or ``lead_images``), written by hand:
    12 leads at 100 Hz, 2.5 s printed, small images."""
    import keras

    from ecgtf import config as cfglib
    from ecgtf.atomic import replacing
    from ecgtf.inputs.runspec import RunSpec
    from ecgtf.inputs.specs import input_shape_of, with_prepare

    leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    options = {"image_size": [24, 48], "dpi": 40.0}
    if kind == "image":
        options["layout"] = "stack"
    spec = RunSpec(model="tiny_printout", dataset="ptbxl", task="superdiagnostic", task_kind="multilabel",
                   class_names=["NORM", "MI"], sampling_rate=100.0, signal_filter="none", lead_names=leads,
                   window_samples=250, eval_hop_samples=None, input_kind=kind,
                   input_options=options, standardize=False)
    spec.input_options = {k: list(v) if isinstance(v, tuple) else v
                          for k, v in dataclasses.asdict(spec.options()).items()}
    prepare = spec.build_prepare()
    keras.utils.set_random_seed(0)
    shape = input_shape_of(prepare)
    inputs = keras.Input(shape)
    x = inputs if kind == "image" else keras.layers.Reshape((shape[0] * shape[1], *shape[2:]))(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    network = keras.Model(inputs, keras.layers.Dense(2, activation="sigmoid")(x))
    os.makedirs(out)
    with replacing(os.path.join(out, "model.keras")) as tmp:
        with_prepare(network, prepare).save(tmp)
    spec.save(os.path.join(out, "run_spec.json"))
    cfglib.save(cfglib.TrainConfig(model="compact1d", dataset="ptbxl", sampling_rate=100.0, duration_s=2.5),
                os.path.join(out, "config.yaml"))
    with open(os.path.join(out, "thresholds.json"), "w") as f:
        json.dump({"classes": ["NORM", "MI"], "thresholds": [0.4, 0.6], "prior_shift": None}, f)
    return out
