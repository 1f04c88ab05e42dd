"""SavedModel export: same probabilities as the run, signatures, README requests, clear refusals."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from serving_runs import CLASSES, tiny_exports, tiny_runs  # noqa: F401  (session fixtures)

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


@pytest.fixture
def exports(tiny_exports):  # noqa: F811
    return tiny_exports


def _decoded(data_dir, record_ids):
    from ecgtf.data.transforms import decode_signal
    from ecgtf.data.wfdb_io import read_record

    records = [read_record(os.path.join(data_dir, rid)) for rid in record_ids]
    return [decode_signal(r.signal_mv, r.sampling_rate, 100.0) for r in records]


@pytest.mark.parametrize("kind", ["raw", "spectrogram"])
def test_export_matches_the_runs_own_predictions(tiny_runs, exports, kind):  # noqa: F811
    import tensorflow as tf

    paths, _ = exports
    assert paths[kind].endswith(os.path.join("_af4", "1"))
    saved = pd.read_csv(os.path.join(tiny_runs[kind], "predictions.csv"), dtype={"record_id": str})
    serve = tf.saved_model.load(paths[kind]).signatures["serving_default"]
    signals = _decoded(tiny_runs["data"], saved["record_id"])
    # Records of different lengths in one batch, zero-padded at the end: the padding is ignored.
    signals[0] = signals[0][:250]
    batch = np.zeros((len(signals), max(len(s) for s in signals), 1), np.float32)
    for i, s in enumerate(signals):
        batch[i, :len(s)] = s
    out = serve(signal_mv=tf.constant(batch))
    probs = out["probabilities"].numpy()
    expected = saved[[f"prob_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(probs[1:], expected[1:], atol=1e-5)
    from ecgtf.training.predict import predict_signals
    from ecgtf.training.saved import load_run

    run = load_run(tiny_runs[kind])
    short = predict_signals(run.model, signals[:1], length=300, hop=100)
    np.testing.assert_allclose(probs[:1], short, atol=1e-5)
    decisions = out["decisions"].numpy()  # multiclass: one-hot argmax
    np.testing.assert_array_equal(decisions, np.eye(4, dtype=np.int32)[probs.argmax(axis=1)])


def test_metadata_signature_and_assets(exports):
    import tensorflow as tf

    paths, _ = exports
    meta = tf.saved_model.load(paths["raw"]).signatures["metadata"]()
    as_json = json.loads(meta["metadata_json"].numpy())
    with open(os.path.join(paths["raw"], "assets", "metadata.json")) as f:
        assert json.load(f) == as_json
    assert as_json["class_names"] == CLASSES and as_json["lead_names"] == ["ECG"]
    assert as_json["sampling_rate"] == 100.0 and as_json["units"] == "mV"
    assert [c.decode() for c in meta["class_names"].numpy()] == CLASSES
    assert float(meta["sampling_rate"]) == 100.0 and meta["units"].numpy() == b"mV"


def _cli(*args):
    result = subprocess.run([SAVED_MODEL_CLI, *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_saved_model_cli_shows_signatures_and_runs_the_rest_example(exports, tmp_path):
    paths, _ = exports
    folder = paths["raw"]
    shown = _cli("show", "--all", "--dir", folder)
    for text in ("signature_def['serving_default']", "signature_def['metadata']", "inputs['signal_mv']",
                 "outputs['probabilities']", "outputs['decisions']", "shape: (-1, -1, 1)"):
        assert text in shown, text
    with open(os.path.join(folder, "example_request.json")) as f:
        request = json.load(f)
    with open(os.path.join(folder, "example_response.json")) as f:
        response = json.load(f)
    np.save(tmp_path / "x.npy", np.asarray(request["instances"], np.float32))
    _cli("run", "--dir", folder, "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"signal_mv={tmp_path / 'x.npy'}", "--outdir", str(tmp_path / "out"))
    got = np.load(tmp_path / "out" / "probabilities.npy")
    np.testing.assert_allclose(got, [row["probabilities"] for row in response["predictions"]], atol=1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "decisions.npy"),
                                  [row["decisions"] for row in response["predictions"]])


def test_readme_grpc_request_matches_the_signature(exports):
    import tensorflow as tf

    from ecgtf.serving.readme import grpc_request_code

    paths, base = exports
    with open(os.path.join(paths["raw"], "README.md")) as f:
        readme = f.read()
    assert "tensorflow_model_server" in readme and "docker run" in readme and ":predict" in readme
    scope = {"signal": np.ones((2, 450, 1), np.float32)}
    exec(grpc_request_code(readme), scope)  # the README's own code
    request = scope["request"]
    from tensorflow_serving.apis import predict_pb2

    assert isinstance(request, predict_pb2.PredictRequest)
    assert request.model_spec.name == os.path.basename(os.path.dirname(paths["raw"]))
    signature = tf.saved_model.load(paths["raw"]).signatures[request.model_spec.signature_name]
    specs = signature.structured_input_signature[1]
    assert set(request.inputs) == set(specs)
    for name, proto in request.inputs.items():
        tensor = tf.make_ndarray(proto)
        assert tf.as_dtype(proto.dtype) == specs[name].dtype
        assert specs[name].shape.is_compatible_with(tensor.shape)
        assert signature(**{name: tf.constant(tensor)})["probabilities"].shape == (2, 4)


def test_export_refuses_the_median_beat_naming_the_step(tiny_runs, tmp_path):  # noqa: F811
    import export as export_script

    from ecgtf.serving.export import ExportError

    with pytest.raises(ExportError, match=r"'median_beat' step .*numpy_function.*scripts/predict.py"):
        export_script.main(["--run", tiny_runs["median_beat"], "--out", str(tmp_path)])
    assert not os.listdir(tmp_path)


def test_export_refuses_a_decode_filter_and_an_unknown_kind(tiny_runs):  # noqa: F811
    import dataclasses

    from ecgtf.serving.export import ExportError, check_exportable
    from ecgtf.training.saved import load_run

    run = load_run(tiny_runs["raw"])
    check_exportable(run)
    with pytest.raises(ExportError, match="--signal-filter bandpass"):
        check_exportable(dataclasses.replace(run, spec=dataclasses.replace(run.spec, signal_filter="bandpass")))
    with pytest.raises(ExportError, match="input kind 'printout'"):
        check_exportable(dataclasses.replace(run, spec=dataclasses.replace(run.spec, input_kind="printout")))


def test_existing_version_is_not_overwritten(tiny_runs, exports):  # noqa: F811
    import export as export_script

    paths, base = exports
    with pytest.raises(FileExistsError, match="already exists"):
        export_script.main(["--run", tiny_runs["raw"], "--out", str(base), "--version", "1"])


@pytest.mark.parametrize("kind", ["image", "lead_images"])
def test_printout_export_takes_png_bytes(kind, tmp_path):
    import tensorflow as tf

    from data_builders import ecg_like
    from ecgtf.data.images import record_image
    from ecgtf.serving.export import export_run
    from ecgtf.training.saved import load_run
    from serving_runs import printout_run

    run = load_run(printout_run(str(tmp_path / "run"), kind))
    path = export_run(run.dir, str(tmp_path / "exp"))
    serve = tf.saved_model.load(path).signatures["serving_default"]
    images = [record_image(ecg_like(250, 12, 100.0, seed=s), run.spec.options(), sampling_rate=100.0,
                           lead_names=run.spec.lead_names, window_samples=250) for s in (1, 2)]
    if kind == "image":
        images[1] = images[1][:, : images[1].shape[1] // 2]  # printouts of different sizes in one request
        encoded = tf.constant([tf.io.encode_png(im).numpy() for im in images])
        expected = np.concatenate([run.model(im[None].astype(np.float32)).numpy() for im in images])
    else:
        encoded = tf.constant([[tf.io.encode_png(lead).numpy() for lead in im] for im in images])
        expected = run.model(np.stack(images).astype(np.float32)).numpy()
    out = serve(image_bytes=encoded)
    np.testing.assert_allclose(out["probabilities"].numpy(), expected, atol=1e-5)
    np.testing.assert_array_equal(out["decisions"].numpy(), (expected >= [0.4, 0.6]).astype(np.int32))
    with open(os.path.join(path, "example_request.json")) as f:
        instance = json.load(f)["instances"][0]
    assert (instance if kind == "image" else instance[0]).keys() == {"b64"}  # TF Serving's REST bytes


def test_an_ensemble_folder_exports_like_a_run(tiny_runs, exports, tmp_path):  # noqa: F811
    """Two copies of the raw run averaged serve the raw run's probabilities; median-beat members are refused."""
    import ensemble as ensemble_script
    import export as export_script
    import tensorflow as tf

    from ecgtf.serving.export import ExportError

    raw = tiny_runs["raw"]
    ens = str(tmp_path / "ens")
    ensemble_script.main(["--runs", raw, raw, "--split", "val", "--out", ens])
    path = export_script.main(["--run", ens, "--out", str(tmp_path / "export")])
    signals = _decoded(tiny_runs["data"], ["A00001", "A00002"])
    batch = np.stack([s[:300] for s in signals]).astype(np.float32)  # (2, 300, 1) mV
    single = tf.saved_model.load(exports[0]["raw"]).signatures["serving_default"]
    averaged = tf.saved_model.load(path).signatures["serving_default"]
    np.testing.assert_allclose(averaged(signal_mv=tf.constant(batch))["probabilities"].numpy(),
                               single(signal_mv=tf.constant(batch))["probabilities"].numpy(), atol=1e-5)
    import predict as predict_script  # predict.py reads the ensemble folder like a run

    saved = pd.read_csv(os.path.join(raw, "predictions.csv"), dtype={"record_id": str}).set_index("record_id")
    rid = saved.index[0]
    out = tmp_path / "p.jsonl"
    predict_script.main(["--model", ens, "--input", os.path.join(tiny_runs["data"], f"{rid}.hea"), "--out", str(out)])
    row = json.loads(out.read_text().splitlines()[0])
    np.testing.assert_allclose([row["probabilities"][c] for c in CLASSES],
                               saved.loc[rid, [f"prob_{c}" for c in CLASSES]].to_numpy(float), atol=1e-5)
    beats = str(tmp_path / "beats")
    from ecgtf.training.ensemble_run import ENSEMBLE_FILE, write_ensemble_run

    write_ensemble_run([tiny_runs["median_beat"]] * 2, beats, None)
    with open(os.path.join(beats, ENSEMBLE_FILE), "w") as f:
        json.dump({"members": [{"run": tiny_runs["median_beat"]}] * 2}, f)
    with pytest.raises(ExportError, match="ensemble .*median_beat.*scripts/predict.py"):
        export_script.main(["--run", beats, "--out", str(tmp_path / "export2")])
