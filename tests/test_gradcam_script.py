"""scripts/gradcam.py on run folders of each input kind (raw, median beat, spectrogram), written the
way runs before ``run_spec.json`` were (config.yaml + the network alone)."""

import importlib.util
import json
import os
import re

import keras
import matplotlib.image
import numpy as np
import pytest

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.data.wfdb_io import write_record
from ecgtf.models.registry import get_model

RATE = 100.0
DURATION_S = 4.0
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _script():
    spec = importlib.util.spec_from_file_location("gradcam_script", os.path.join(ROOT, "scripts", "gradcam.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cnn_2d(size, outputs, activation):
    inp = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(outputs, activation=activation, name="predictions")(x))


def _run(tmp_path, name, cfg, model, classes=None):
    run_dir = tmp_path / name
    cfglib.save(cfg, str(run_dir / "config.yaml"))
    model.save(str(run_dir / "model.keras"))
    if classes:
        (run_dir / "thresholds.json").write_text(json.dumps({"classes": classes, "thresholds": [0.5]}))
    return str(run_dir)


def _signal(seconds, rate, leads, seed=0):
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    return np.stack([np.sin(2 * np.pi * (1.0 + i) * t) + 0.05 * rng.normal(size=t.size) for i in range(leads)],
                    axis=1).astype(np.float32)


def _assert_png(path):
    assert os.path.isfile(path)
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.std() > 0.01


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("raw")
    keras.utils.set_random_seed(0)
    model = get_model("compact1d", (int(RATE * DURATION_S), 2), 1, activation="sigmoid", filters=(8, 8),
                      stem_filters=8)
    cfg = TrainConfig(model="compact1d", dataset="synthetic", sampling_rate=RATE, duration_s=DURATION_S,
                      standardize=True)
    return _run(tmp, "raw_run", cfg, model, classes=["AF"]), tmp


def test_raw_record_at_other_rate(raw_run, tmp_path):
    run_dir, _ = raw_run
    rec = write_record(str(tmp_path), "rec1", _signal(6.0, 200.0, 2), 200.0, ["I", "II"])
    out = str(tmp_path / "raw.png")
    row = _script().main(["--run", run_dir, "--input", rec + ".hea", "--out", out])
    _assert_png(out)
    assert row["record_id"] == "rec1" and row["predicted"] in ("not AF", "AF")
    assert 0.0 <= row["probability"] <= 1.0


@pytest.mark.parametrize("method", ["gradcam++", "saliency"])
def test_raw_npy_with_class(raw_run, tmp_path, method):
    run_dir, _ = raw_run
    np.save(tmp_path / "x.npy", _signal(5.0, RATE, 2))
    out = str(tmp_path / "npy.png")
    row = _script().main(["--run", run_dir, "--input", str(tmp_path / "x.npy"), "--class", "AF",
                          "--method", method, "--out", out])
    _assert_png(out)
    assert row["explained"] == "AF" and row["method"] == method


def test_unknown_class_lists_classes(raw_run, tmp_path):
    run_dir, _ = raw_run
    np.save(tmp_path / "x.npy", _signal(5.0, RATE, 2))
    with pytest.raises(ValueError, match="not AF, AF"):
        _script().main(["--run", run_dir, "--input", str(tmp_path / "x.npy"), "--class", "NSR",
                        "--out", str(tmp_path / "x.png")])


def test_wrong_lead_count(raw_run, tmp_path):
    run_dir, _ = raw_run
    np.save(tmp_path / "x.npy", _signal(5.0, RATE, 3))
    with pytest.raises(ValueError, match="2 lead"):
        _script().main(["--run", run_dir, "--input", str(tmp_path / "x.npy"), "--out", str(tmp_path / "x.png")])


def test_spectrogram_run(tmp_path):
    keras.utils.set_random_seed(0)
    cfg = TrainConfig(model="inception_spectrogram", dataset="synthetic", sampling_rate=RATE, duration_s=DURATION_S,
                      model_options={"image_size": [32, 32], "window_s": 0.5, "hop_s": 0.05})
    run_dir = _run(tmp_path, "spec_run", cfg, _cnn_2d(32, 4, "softmax"))
    rec = write_record(str(tmp_path), "af1", _signal(7.0, RATE, 1), RATE, ["I"])
    out = str(tmp_path / "spec.png")
    row = _script().main(["--run", run_dir, "--input", rec, "--out", out])
    _assert_png(out)
    assert row["predicted"] in ("N", "A", "O", "~")  # the classes of the run's task (af4)


def test_median_beat_run_draws_the_beat(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    cfg = TrainConfig(model="beat_cnn", dataset="synthetic", sampling_rate=RATE, duration_s=DURATION_S,
                      model_options={"before_s": 0.2, "after_s": 0.4})
    run_dir = _run(tmp_path, "beat_run", cfg, get_model("beat_cnn", (60, 2), 1, stages=((4,), (4,))), classes=["MI"])
    t = np.arange(int(DURATION_S * RATE)) / RATE
    beats = sum(np.exp(-0.5 * ((t - b) / 0.02) ** 2) for b in np.arange(0.5, 3.6, 0.75))
    np.save(tmp_path / "beats.npy", np.stack([beats, -0.5 * beats], axis=1).astype(np.float32))
    out = str(tmp_path / "beat.png")
    row = _script().main(["--run", run_dir, "--input", str(tmp_path / "beats.npy"), "--out", out])
    _assert_png(out)
    assert row["predicted"] in ("not MI", "MI")
    from ecgtf.explain import gallery

    drawn = []
    monkeypatch.setattr(gallery.overlay, "plot_raw", lambda signal, heat, *a, **k: drawn.append((signal, heat)))
    _script().main(["--run", run_dir, "--input", str(tmp_path / "beats.npy"), "--out", out])
    (signal, heat), = drawn
    assert signal.shape == (60, 2) and heat.shape == (60,)  # the 0.6 s median beat, not the 4 s window
    assert np.argmax(signal[:, 0]) == 20  # QRS 0.2 s into the beat
    np.save(tmp_path / "three.npy", np.zeros((400, 3), np.float32))
    with pytest.raises(ValueError, match="2 lead"):
        _script().main(["--run", run_dir, "--input", str(tmp_path / "three.npy"), "--out", out])


def test_batch_mode_gallery(raw_run, tmp_path):
    run_dir, _ = raw_run
    inputs = tmp_path / "inputs"
    for i in range(2):
        write_record(str(inputs), f"rec{i}", _signal(5.0, RATE, 2, seed=i), RATE, ["I", "II"])
    np.save(inputs / "extra.npy", _signal(4.0, RATE, 2, seed=5))
    out_dir = tmp_path / "gallery"
    rows = _script().main(["--run", run_dir, "--input", str(inputs), "--out", str(out_dir)])
    assert [r["record_id"] for r in rows] == ["extra", "rec0", "rec1"]
    page = (out_dir / "index.html").read_text()
    links = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(links) == ["extra.png", "rec0.png", "rec1.png"]
    for link in links:
        _assert_png(str(out_dir / link))
    assert "http" not in page and "rec1" in page and "p=" in page


def test_nan_lead_is_refused_as_training_refuses_it(raw_run, tmp_path, capsys):
    from ecgtf.errors import run_cli

    run_dir, _ = raw_run
    signal = _signal(5.0, RATE, 2)
    signal[100:150, 1] = np.nan
    rec = write_record(str(tmp_path), "nanrec", np.nan_to_num(signal), RATE, ["I", "II"])
    np.save(tmp_path / "nan.npy", signal)
    out = str(tmp_path / "nan.png")
    assert run_cli(_script().main, ["--run", run_dir, "--input", str(tmp_path / "nan.npy"), "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nan" in err[0] and "NaN samples in lead(s) lead 2" in err[0]
    assert not os.path.exists(out)
    flat = np.zeros((500, 2), np.float32)
    write_record(str(tmp_path), "flatrec", flat, RATE, ["I", "II"])
    with pytest.raises(Exception, match="flat lead"):
        _script().main(["--run", run_dir, "--input", str(tmp_path / "flatrec"), "--out", out])
    assert os.path.exists(rec + ".hea")
