"""scripts/predict.py on good and broken files, with a run folder and with an export."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from data_builders import ecg_like
from serving_runs import CLASSES, tiny_exports, tiny_runs  # noqa: F401  (session fixtures)


@pytest.fixture(scope="module")
def inputs(tiny_runs, tmp_path_factory):  # noqa: F811
    """A folder of one good .npy at 300 Hz and four broken files, beside the good WFDB records."""
    folder = tmp_path_factory.mktemp("inputs")
    np.save(folder / "good300.npy", ecg_like(1200, 1, 300.0, seed=3))
    np.save(folder / "twoleads.npy", ecg_like(900, 2, 300.0))
    nan = ecg_like(900, 1, 300.0)
    nan[10] = np.nan
    np.save(folder / "withnan.npy", nan)
    (folder / "garbage.hea").write_text("this is not a header\n")
    (folder / "orphan.mat").write_bytes(b"\x00" * 16)
    return str(folder)


def _rows(path):
    with open(path) as f:
        return {r["record_id"]: r for r in map(json.loads, f)}


@pytest.mark.parametrize("kind", ["raw", "spectrogram"])
def test_run_and_export_score_files_as_the_run_did(tiny_runs, tiny_exports, kind, tmp_path):  # noqa: F811
    import predict as predict_script

    exported = tiny_exports[0][kind]
    saved = pd.read_csv(os.path.join(tiny_runs[kind], "predictions.csv"), dtype={"record_id": str})
    expected = saved.set_index("record_id")[[f"prob_{c}" for c in CLASSES]]
    for model in (tiny_runs[kind], os.path.dirname(exported)):  # a run folder; an export's model folder
        out = tmp_path / f"{os.path.basename(model)}.jsonl"
        predict_script.main(["--model", model, "--input", tiny_runs["data"], "--out", str(out)])
        rows = _rows(out)
        assert len(rows) == 16
        got = np.array([[rows[rid]["probabilities"][c] for c in CLASSES] for rid in expected.index])
        np.testing.assert_allclose(got, expected.to_numpy(), atol=1e-5)
        assert all(sum(r["decisions"].values()) == 1 for r in rows.values())


def test_broken_files_get_one_line_each_and_the_rest_are_scored(tiny_runs, inputs, tmp_path, capsys):  # noqa: F811
    import predict as predict_script

    from ecgtf.errors import run_cli

    out = tmp_path / "p.jsonl"
    code = run_cli(predict_script.main, ["--model", tiny_runs["raw"], "--input", inputs,
                                         os.path.join(tiny_runs["data"], "A00001.hea"), "--out", str(out),
                                         "--npy-rate", "300"])
    assert code == 2
    err = capsys.readouterr().err
    rows = _rows(out)
    assert {rid for rid, r in rows.items() if "error" not in r} == {"good300", "A00001"}
    assert "resampled from 300 Hz to 100 Hz" in err
    reasons = {"twoleads": "wrong lead count", "withnan": "NaN", "garbage": "header", "orphan": "no header"}
    for rid, reason in reasons.items():
        assert reason in rows[rid]["error"], rows[rid]
        line = [l for l in err.splitlines() if l.startswith("error: ") and rid in l]
        assert len(line) == 1 and reason in line[0], err
    assert "error: 4 of 6 file(s) could not be scored" in err


def test_median_beat_run_scores_through_its_run_folder(tiny_runs, tmp_path):  # noqa: F811
    import predict as predict_script

    np.save(tmp_path / "beat.npy", ecg_like(500, 1, 100.0))
    rows = predict_script.main(["--model", tiny_runs["median_beat"], "--input", str(tmp_path / "beat.npy")])
    assert len(rows) == 1 and set(rows[0]["probabilities"]) == set(CLASSES)
    assert abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-4


def test_a_model_path_that_is_neither_run_nor_export(tmp_path):
    import predict as predict_script

    with pytest.raises(FileNotFoundError, match="neither a run folder"):
        predict_script.main(["--model", str(tmp_path), "--input", str(tmp_path)])


def test_printout_model_scores_images_and_renders_signals(tmp_path, capsys):
    import tensorflow as tf

    import export as export_script
    import predict as predict_script
    from ecgtf.errors import run_cli
    from ecgtf.serving.predictor import load_predictor
    from ecgtf.training.saved import load_run
    from serving_runs import printout_run

    run = load_run(printout_run(str(tmp_path / "run"), "image"))
    exported = export_script.main(["--run", run.dir, "--out", str(tmp_path / "exp")])
    signal = ecg_like(250, 12, 100.0, seed=4)
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in" / "sig.npy", signal)
    image = load_predictor(run.dir).info.printout(signal)
    (tmp_path / "in" / "page.png").write_bytes(tf.io.encode_png(image).numpy())
    (tmp_path / "in" / "torn.png").write_bytes(b"\x89PNG not really")
    expected = run.model(image[None].astype(np.float32)).numpy()[0]
    for model in (run.dir, exported):
        out = tmp_path / f"{os.path.basename(model)}.jsonl"
        code = run_cli(predict_script.main, ["--model", model, "--input", str(tmp_path / "in"), "--out", str(out),
                                             "--image-input", "as-is"])
        assert code == 2
        rows = _rows(out)
        for rid in ("page", "sig"):  # the image, and the signal rendered as the run's printout
            np.testing.assert_allclose([rows[rid]["probabilities"][c] for c in ("NORM", "MI")], expected, atol=1e-5)
        assert "PNG/JPEG" in rows["torn"]["error"]
    assert capsys.readouterr().err.count("error: ") == 4  # torn.png per model, and the two summaries
