"""One path from record to model input: every consumer of a run feeds its network the same array.

For each input kind and each dataset layout (tiny records written here), a run is trained and
the network input for a record is compared across training's validation pass, ``evaluate.py``,
``gradcam.py`` (from the record's own files) and the saved ``model.keras`` fed the decoded
record. Most runs use ``--signal-filter bandpass``, which the gallery once skipped.
"""

import json
import os
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from data_builders import write_cinc2017, write_cinc2020_record, write_ptbxl
from ecgtf.data.datasets import make_reader
from ecgtf.explain import gallery
from ecgtf.training import predict as predictlib
from ecgtf.inputs.runspec import load_run_data
from ecgtf.training.saved import load_run
from ecgtf.training.splits import split_run
from ecgtf.training.trainer import validation_dataset

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import evaluate as evaluate_script  # noqa: E402
import gradcam as gradcam_script  # noqa: E402
import train as train_script  # noqa: E402

TOL = 1e-6
MODELS = {
    "raw": ["--model", "compact1d", "--option", "filters=[8,8]", "--option", "stem_filters=8", "--standardize"],
    "median_beat": ["--model", "beat_cnn", "--option", "stages=[[4],[4]]", "--option", "after_s=0.4"],
    "spectrogram": ["--model", "spectrogram_cnn", "--option", "filters=[4,4]", "--option", "stem_filters=4",
                    "--option", "image_size=[24,24]", "--eval-hop-s", "0"],  # its default averages crops
}


def _ptbxl(root):
    codes = [{"NORM": 100}, {"IMI": 100}]
    recs = [{"scp_codes": codes[i % 2], "fold": 1 + i % 10} for i in range(20)]
    return write_ptbxl(root, recs, rate=100, seconds=4.0), ["--dataset", "ptbxl", "--task", "mi_vs_norm",
                                                           "--train-folds", "1-8", "--val-folds", "9-10"]


def _cinc2017(root):
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 21)}
    return write_cinc2017(root, labels, seconds=3.5), ["--dataset", "cinc2017", "--duration-s", "2"]


def _cinc2020(root):
    dx = (["164889003"], ["426783006"], ["59118001", "164889003"])
    for i in range(18):  # mixed rates: the run resamples every file to 100 Hz
        write_cinc2020_record(root, f"A{i:04d}", list(dx[i % 3]), rate=(500, 257)[i % 2], seconds=4.0, seed=i)
    return str(root), ["--dataset", "cinc2020", "--duration-s", "4"]


LAYOUTS = {"ptbxl": _ptbxl, "cinc2017": _cinc2017, "cinc2020": _cinc2020}


def _train(tmp, layout, kind, signal_filter, extra=()):
    root, flags = LAYOUTS[layout](tmp / "data")
    out = tmp / "run"
    keras.utils.set_random_seed(0)
    train_script.main([*MODELS[kind], *flags, "--data-dir", root, "--cache-dir", str(tmp / "cache"),
                       "--sampling-rate", "100", "--signal-filter", signal_filter, "--epochs", "1",
                       "--batch-size", "8", "--out", str(out), "--verbose", "0", *extra])
    return str(out)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kind", list(MODELS))
def test_every_consumer_feeds_the_same_input(tmp_path, layout, kind, monkeypatch):
    signal_filter = "none" if (layout, kind) == ("cinc2017", "raw") else "bandpass"
    run_dir = _train(tmp_path, layout, kind, signal_filter)
    run = load_run(run_dir)
    spec = run.spec
    assert (spec.input_kind, spec.signal_filter, spec.sampling_rate) == (kind, signal_filter, 100.0)
    data = load_run_data(run.cfg)
    idx = split_run(data, run.cfg)["val"][:4]
    ids = data.meta["record_id"].astype(str).to_numpy()[idx]

    # 1. training's per-epoch validation pass
    from_training = np.concatenate([x.numpy() for x, _ in validation_dataset(data, idx, run.prepare,
                                                                               spec.window_samples)])
    # 2. evaluate.py: the windows it hands the model, through the model's own prepare block
    seen = []
    original = predictlib.predict_windows
    monkeypatch.setattr(predictlib, "predict_windows",
                        lambda fn, windows, batch_size=64: seen.append(windows) or original(fn, windows, batch_size))
    evaluate_script.main(["--run", run_dir, "--split", "val", "--out", str(tmp_path / "ev.json")])
    ev_rows = pd.read_csv(tmp_path / "ev_predictions.csv", dtype={"record_id": str}).set_index("record_id")
    from_evaluate = np.asarray(run.prepare(seen[0]))
    order = [list(ev_rows.index).index(r) for r in ids]
    np.testing.assert_allclose(from_evaluate[order], from_training, atol=TOL)
    # 3. gradcam.py, reading each record's own files (resampled and filtered as at decode)
    paths = dict(make_reader(data.name, run.cfg.data_dir).index()[0][["record_id", "path"]].to_numpy())
    explainer = gallery.load_explainer(run_dir)
    for i, rid in enumerate(ids):
        _, signal = gallery.load_input(explainer, paths[rid])
        np.testing.assert_allclose(signal, data.signal(int(idx[i])), atol=TOL)
        np.testing.assert_allclose(gallery.model_input(explainer, signal)[1][0], from_training[i], atol=TOL)
    # 4. the saved model.keras fed the decoded record (any length: it crops or pads itself)
    saved = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    decoded = [data.signal(int(i)) for i in idx]
    for i, signal in enumerate(decoded):
        np.testing.assert_allclose(np.asarray(saved.get_layer("prepare")(signal[None]))[0], from_training[i],
                                   atol=TOL)
    # ... and the probabilities agree everywhere: training's predictions.csv, evaluate, gradcam, predict
    trained = pd.read_csv(os.path.join(run_dir, "predictions.csv"), dtype={"record_id": str}).set_index("record_id")
    probs = trained.filter(like="prob_").loc[ids].to_numpy()
    np.testing.assert_allclose(ev_rows.filter(like="prob_").loc[ids].to_numpy(), probs, atol=TOL)
    direct = np.concatenate([saved.predict(s[None], verbose=0) for s in decoded])
    np.testing.assert_allclose(direct, probs, atol=1e-5)
    assert spec.eval_hop_samples is None  # centre windows: what the per-epoch validation pass scores
    row = gradcam_script.main(["--run", run_dir, "--input", paths[ids[0]], "--out", str(tmp_path / "g.png")])
    names = explainer.class_names
    p = probs[0]
    expected = (p[0] if row["predicted"] == names[1] else 1 - p[0]) if len(p) == 1 else p[names.index(row["predicted"])]
    assert row["probability"] == pytest.approx(float(expected), abs=1e-5)
    assert json.loads(open(os.path.join(run_dir, "run_spec.json")).read())["window_samples"] == spec.window_samples


def test_crop_averaged_predictions_agree(tmp_path):
    """With ``--eval-hop-s``, training's and evaluate's predictions are the mean of the saved
    model over the same windows of each decoded record (cinc2017 records are 3.5-4.2 s; the
    window is 2 s, so every record has several)."""
    from ecgtf.data.crops import crop_windows

    run_dir = _train(tmp_path, "cinc2017", "raw", "bandpass", extra=["--eval-hop-s", "0.5"])
    run = load_run(run_dir)
    assert run.spec.eval_hop_samples == 50
    data = load_run_data(run.cfg)
    idx = split_run(data, run.cfg)["val"]
    ids = data.meta["record_id"].astype(str).to_numpy()[idx]
    evaluate_script.main(["--run", run_dir, "--split", "val", "--out", str(tmp_path / "ev.json")])
    ev = pd.read_csv(tmp_path / "ev_predictions.csv", dtype={"record_id": str}).set_index("record_id")
    trained = pd.read_csv(os.path.join(run_dir, "predictions.csv"), dtype={"record_id": str}).set_index("record_id")
    saved = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    direct = np.stack([saved.predict(crop_windows(data.signal(int(i)), 200, 50), verbose=0).mean(0) for i in idx])
    assert min(len(crop_windows(data.signal(int(i)), 200, 50)) for i in idx) >= 3
    np.testing.assert_allclose(trained.filter(like="prob_").loc[ids].to_numpy(), direct, atol=1e-5)
    np.testing.assert_allclose(ev.filter(like="prob_").loc[ids].to_numpy(), direct, atol=1e-5)


PRINTOUT_MODELS = {
    "image": ["--model", "mobilenetv3_small_custom", "--option", "image_size=[48,96]", "--option", "dpi=25"],
    "lead_images": ["--model", "convlstm_leads", "--option", "image_size=[16,64]", "--option", "dpi=20",
                    "--option", "stem_filters=[4]", "--option", "lstm_filters=4"],
}


@pytest.mark.parametrize("kind", list(PRINTOUT_MODELS))
def test_printout_consumers_feed_the_same_input(tmp_path, kind):
    """Printout kinds: training's validation pass, the gallery (Grad-CAM) and the saved model.keras
    fed the printout of the decoded record give the network the same array; evaluate.py scores
    the records as training did."""
    from ecgtf.data.images import spec_image

    out = tmp_path / "run"
    keras.utils.set_random_seed(0)
    train_script.main([*PRINTOUT_MODELS[kind], "--dataset", "synthetic", "--task", "mi_vs_norm", "--synthetic-n", "16",
                       "--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache"),
                       "--sampling-rate", "100", "--signal-filter", "bandpass", "--epochs", "1", "--batch-size", "8",
                       "--out", str(out), "--verbose", "0"])
    run_dir = str(out)
    run = load_run(run_dir)
    spec = run.spec
    assert spec.input_kind == kind and spec.signal_filter == "bandpass"
    data = load_run_data(run.cfg)
    idx = split_run(data, run.cfg)["val"][:3]
    ids = data.meta["record_id"].astype(str).to_numpy()[idx]
    from_training = np.concatenate([x.numpy() for x, _ in validation_dataset(data, idx, run.prepare,
                                                                               spec.window_samples, spec=spec)])
    explainer = gallery.load_explainer(run_dir)
    saved = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    for i, rid in enumerate(ids):
        _, signal = gallery.load_input(explainer, rid)
        np.testing.assert_allclose(signal, data.signal(int(idx[i])), atol=TOL)
        np.testing.assert_allclose(gallery.model_input(explainer, signal)[1][0], from_training[i], atol=TOL)
        printout = spec_image(data.signal(int(idx[i])), spec)
        np.testing.assert_allclose(np.asarray(saved.get_layer("prepare")(printout[None].astype("float32")))[0],
                                   from_training[i], atol=TOL)
    evaluate_script.main(["--run", run_dir, "--split", "val", "--out", str(tmp_path / "ev.json")])
    ev = pd.read_csv(tmp_path / "ev_predictions.csv", dtype={"record_id": str}).set_index("record_id")
    trained = pd.read_csv(os.path.join(run_dir, "predictions.csv"), dtype={"record_id": str}).set_index("record_id")
    np.testing.assert_allclose(ev.filter(like="prob_").loc[ids].to_numpy(),
                               trained.filter(like="prob_").loc[ids].to_numpy(), atol=1e-5)
