"""User errors end in one line naming the flag or file, a non-zero exit and no traceback."""

import os
import sys

import pytest

from data_builders import write_cinc2017
from ecgtf.errors import run_cli

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import evaluate as evaluate_script  # noqa: E402
import gradcam as gradcam_script  # noqa: E402
import train as train_script  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    return write_cinc2017(tmp / "d", {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 13)}), str(tmp / "cache")


def _one_line(capsys, *needles):
    text = capsys.readouterr().err
    err = [line for line in text.splitlines() if line.startswith("error: ")]  # progress bars share stderr
    assert len(err) == 1 and "Traceback" not in text, text
    for needle in needles:
        assert needle in err[0], (needle, err[0])
    return err[0]


@pytest.mark.parametrize("flags,needle", [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "-1"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--val-fraction", "1.5"], "--val-fraction"),
    (["--test-fraction", "0.5", "--val-fraction", "0.5"], "--test-fraction"),
    (["--model", "resnet18"], "unknown model 'resnet18'"),
    (["--task", "superdiagnostic"], "superdiagnostic"),
    (["--option", "image_sise=[64,64]"], "image_sise"),
])
def test_bad_training_flags(tiny, tmp_path, capsys, flags, needle):
    root, cache = tiny
    out = tmp_path / "run"
    argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", cache,
            "--out", str(out), "--verbose", "0", *flags]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, needle)
    assert not out.exists()  # a refused run leaves no run folder behind


def test_missing_or_wrong_folders(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default run folder goes under ./runs
    assert run_cli(train_script.main, ["--dataset", "cinc2017", "--data-dir", str(tmp_path / "nope")]) == 2
    _one_line(capsys, "nope")
    (tmp_path / "empty").mkdir()
    assert run_cli(train_script.main, ["--dataset", "ptbxl", "--data-dir", str(tmp_path / "empty")]) == 2
    _one_line(capsys, "empty")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no empty run folder left


def test_no_usable_records(tmp_path, capsys):
    root = write_cinc2017(tmp_path / "d", {})
    argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", str(tmp_path / "c"),
            "--out", str(tmp_path / "run")]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, "no usable records")
    assert not (tmp_path / "run").exists()
    bad = write_cinc2017(tmp_path / "bad", {"A00001": "X", "A00002": "Y"})  # every record skipped: the reasons
    argv = argv[:5] + [bad] + argv[6:]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, "no usable records", "2 skipped: 2 label code not in the mapping")
    assert not (tmp_path / "run").exists()


def test_bad_config_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [1,\n")
    assert run_cli(train_script.main, ["--config", str(bad)]) == 2
    _one_line(capsys, "bad.yaml", "YAML")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("epoch: 3\n")
    assert run_cli(train_script.main, ["--config", str(unknown)]) == 2
    _one_line(capsys, "unknown.yaml", "epoch")


def test_missing_run_and_record(tmp_path, capsys):
    assert run_cli(evaluate_script.main, ["--run", str(tmp_path / "norun")]) == 2
    _one_line(capsys, "norun")
    assert run_cli(gradcam_script.main, ["--run", str(tmp_path / "norun"), "--input", "x", "--out", "x.png"]) == 2
    _one_line(capsys, "norun")


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_cli(evaluate_script.main, ["--run", str(tmp_path / "norun"), "--debug"])


def test_strict_stops_on_a_bad_record(tmp_path, capsys):
    import numpy as np

    from data_builders import ecg_like

    sig = ecg_like(900, 1, 300)
    sig[:, 0] = np.nan
    root = write_cinc2017(tmp_path / "d", {"A00001": "N", "A00002": "A"}, signals={"A00002": sig})
    argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", str(tmp_path / "c"),
            "--strict", "--out", str(tmp_path / "run")]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, "A00002")


def test_folds_with_no_records(tmp_path, capsys):
    from data_builders import write_ptbxl

    root = write_ptbxl(tmp_path / "p", [{"scp_codes": {"NORM": 100.0}, "fold": 1 + i % 2} for i in range(6)])
    argv = ["--model", "compact1d", "--dataset", "ptbxl", "--data-dir", root, "--task", "mi_vs_norm",
            "--cache-dir", str(tmp_path / "c"), "--train-folds", "1", "--val-folds", "5", "--out", str(tmp_path / "r")]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, "--val-folds [5]")
    assert not (tmp_path / "r").exists()  # refused after loading the data: no run folder either


def test_cinc2020_pointed_at_a_ptbxl_folder(tmp_path, capsys):
    from data_builders import write_ptbxl

    root = write_ptbxl(tmp_path / "p", [{"scp_codes": {"NORM": 100.0}, "fold": 1}])
    argv = ["--model", "compact1d", "--dataset", "cinc2020", "--data-dir", root, "--cache-dir", str(tmp_path / "c"),
            "--out", str(tmp_path / "r")]
    assert run_cli(train_script.main, argv) == 2
    _one_line(capsys, "cinc2020")


def test_truncated_model_and_missing_record(tiny, tmp_path, capsys):
    root, cache = tiny
    run = tmp_path / "run"
    train_script.main(["--model", "compact1d", "--option", "filters=[8]", "--option", "stem_filters=8", "--dataset",
                       "cinc2017", "--data-dir", root, "--cache-dir", cache, "--epochs", "1", "--out", str(run),
                       "--verbose", "0"])
    assert run_cli(gradcam_script.main, ["--run", str(run), "--input", "A99999", "--out", str(tmp_path / "g.png")]) == 2
    _one_line(capsys, "A99999")
    size = os.path.getsize(run / "model.keras")
    for cut in (64, size // 2, size - 10):  # Keras says "File not found" for each: the file is there
        with open(run / "model.keras", "r+b") as f:
            f.truncate(cut)
        assert run_cli(evaluate_script.main, ["--run", str(run)]) == 2
        line = _one_line(capsys, "model.keras", "cannot be loaded", "corrupt or truncated", f"{cut:,} bytes")
        assert "not found" not in line.lower()
    # --init-from names the file it cannot load, and a missing one stops the run before the data load.
    argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", cache,
            "--epochs", "1", "--out", str(tmp_path / "again"), "--verbose", "0", "--init-from"]
    (tmp_path / "junk.hdf5").write_text("not hdf5")
    for source, needle in ((run / "model.keras", "corrupt or truncated"), (tmp_path / "junk.hdf5", "not an HDF5"),
                           (tmp_path / "nope.keras", "no such run folder or model file")):
        assert run_cli(train_script.main, argv + [str(source)]) == 2
        _one_line(capsys, f"--init-from {source}", needle)
        assert not (tmp_path / "again").exists()


def test_model_with_python_code_is_refused_in_one_sentence(tmp_path, capsys):
    import keras

    from ecgtf.config import TrainConfig, save

    run = tmp_path / "run"
    save(TrainConfig(model="compact1d", dataset="cinc2017", task="af4", sampling_rate=100.0, duration_s=3.0),
         str(run / "config.yaml"))
    inputs = keras.Input((8,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(str(run / "model.keras"))
    assert run_cli(evaluate_script.main, ["--run", str(run)]) == 2
    line = _one_line(capsys, "model.keras cannot be loaded", "Lambda layer")
    assert line.endswith("so this file was not written by it (--debug shows the traceback)"), line


def test_unreadable_thresholds_file_is_named(tmp_path, capsys):
    from ecgtf.config import TrainConfig, save

    run = tmp_path / "run"
    save(TrainConfig(), str(run / "config.yaml"))  # a readable config: the thresholds are what is broken
    (run / "model.keras").write_text("x")
    (run / "thresholds.json").write_text("{bad")
    assert run_cli(evaluate_script.main, ["--run", str(run)]) == 2
    _one_line(capsys, "thresholds.json", "not valid JSON")
