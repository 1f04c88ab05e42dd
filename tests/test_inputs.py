"""Input specs: typed options per input kind, model contracts, old run folders, one-line errors."""

import os
import sys

import keras
import numpy as np
import pytest

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.errors import run_cli
from ecgtf.inputs.specs import INPUT_SPECS, SpectrogramOptions, build_prepare, is_graph_only, split_options
from ecgtf.models.registry import get_entry, get_model, list_models
from ecgtf.training.contracts import apply_contract, check_leads, contract_of

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import evaluate as evaluate_script  # noqa: E402
import train as train_script  # noqa: E402


def test_every_registered_model_has_a_spec():
    for name in list_models():
        assert get_entry(name).input_kind in INPUT_SPECS


@pytest.mark.parametrize("model", ["compact1d", "beat_cnn", "inception_spectrogram", "spectrogram_cnn", "ribeiro"])
def test_unknown_option_lists_the_accepted_keys(model):
    with pytest.raises(ValueError) as info:
        split_options(get_entry(model), {"image_sise": [128, 128]})
    text = str(info.value)
    assert "image_sise" in text and "accepted:" in text and model in text
    if get_entry(model).input_kind == "spectrogram":
        assert "image_size" in text.split("accepted:")[1]


@pytest.mark.parametrize("model,key,kind", [
    ("compact1d", "image_size", "spectrogram"),       # a spectrogram option to a raw model
    ("resnet1d18", "before_s", "median_beat"),        # a median-beat option to a raw model
    ("beat_cnn", "window_s", "spectrogram"),          # a spectrogram option to the beat model
    ("inception_spectrogram", "after_s", "median_beat"),
    ("spectrogram_cnn", "before_s", "median_beat"),
])
def test_option_of_another_input_kind_is_refused(model, key, kind):
    with pytest.raises(ValueError, match=f"{key} is an option of the {kind} input"):
        split_options(get_entry(model), {key: 1})


def test_every_option_of_another_kind_is_refused_by_every_model():
    """Each input kind's option keys, given to every registered model whose kind and builder lack
    them (printout options to raw models, signal options to printout models, ...), stop the run."""
    from ecgtf.inputs.specs import builder_option_names, option_names

    checked = 0
    for name in list_models():
        entry = get_entry(name)
        own = set(option_names(entry.input_kind)) | set(builder_option_names(entry.builder) or ())
        for kind in INPUT_SPECS:
            for key in set(option_names(kind)) - own:
                with pytest.raises(ValueError, match=rf"does not take option\(s\) {key} \(.*{kind}"):
                    split_options(entry, {key: 1})
                checked += 1
    assert checked > 200  # 12 models against the options of the four other kinds


def test_options_split_and_typed():
    opts, builder = split_options(get_entry("spectrogram_cnn"), {"image_size": [32, 40], "filters": [4, 4]})
    assert opts == SpectrogramOptions(image_size=(32, 40)) and builder == {"filters": [4, 4]}
    with pytest.raises(ValueError, match="first3"):
        split_options(get_entry("spectrogram_cnn"), {"channels": "rgb"})


def test_train_refuses_a_typo_before_reading_data(tmp_path, capsys):
    argv = ["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", str(tmp_path / "missing"),
            "--option", "image_sise=[128,128]", "--out", str(tmp_path / "run")]
    with pytest.raises(ValueError, match="image_sise"):
        train_script.main(argv)
    assert run_cli(train_script.main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: model compact1d") and "image_sise" in err[0]


def test_prepare_blocks_save_and_load(tmp_path):
    x = np.random.default_rng(0).standard_normal((2, 350, 2)).astype(np.float32)
    for kind, options in (("raw", {}), ("median_beat", {"after_s": 0.4}), ("spectrogram", {"image_size": [16, 16]})):
        opts = INPUT_SPECS[kind].options(**options)
        prepare = build_prepare(kind, opts, sampling_rate=100.0, window_samples=300, n_leads=2, standardize=True)
        path = str(tmp_path / f"{kind}.keras")
        prepare.save(path)
        again = keras.models.load_model(path)
        np.testing.assert_allclose(np.asarray(again(x)), np.asarray(prepare(x)), atol=1e-6)
        assert is_graph_only(prepare) == INPUT_SPECS[kind].graph_op


def _ribeiro_cfg(**kw):
    return TrainConfig(model="ribeiro", weights="model.hdf5", **kw)


def test_ribeiro_contract_resamples_and_pads_saying_so():
    said = []
    cfg = apply_contract(_ribeiro_cfg(sampling_rate=100.0, duration_s=10.0),
                         contract_of(get_entry("ribeiro"), _ribeiro_cfg()), say=said.append)
    assert cfg.sampling_rate == 400.0 and cfg.duration_s * 400 == pytest.approx(4096)
    assert any("400 Hz" in s for s in said) and any("4096 samples" in s for s in said)
    assert contract_of(get_entry("ribeiro"), TrainConfig(model="ribeiro")) is None  # from scratch: no contract
    contract = contract_of(get_entry("ribeiro_transfer"), TrainConfig(model="ribeiro_transfer",
                                                                      init_from="x/model.hdf5"))
    assert contract.sampling_rate == 400.0


def test_ribeiro_contract_refuses_other_leads():
    contract = contract_of(get_entry("ribeiro"), _ribeiro_cfg())
    check_leads(contract, ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"])  # same leads
    with pytest.raises(ValueError, match="in that order"):
        check_leads(contract, ["II", "I", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"])
    with pytest.raises(ValueError, match="the data have 1"):
        check_leads(contract, ["ECG"])


def _old_run(tmp_path, name, cfg, model):
    run_dir = tmp_path / name
    cfglib.save(cfg, str(run_dir / "config.yaml"))
    model.save(str(run_dir / "model.keras"))
    return str(run_dir)


def test_old_run_folder_loads_with_its_prepare_block(tmp_path):
    from ecgtf.training.saved import load_run

    network = get_model("compact1d", (300, 2), 1, filters=(8,), stem_filters=8)
    run_dir = _old_run(tmp_path, "old", TrainConfig(model="compact1d", dataset="synthetic", task="mi_vs_norm",
                                                   sampling_rate=100.0, duration_s=3.0, standardize=True), network)
    run = load_run(run_dir)
    x = np.random.default_rng(0).normal(2.0, 3.0, (1, 420, 2)).astype(np.float32)
    window = x[:, 60:360]
    expected = network(((window - window.mean(1, keepdims=True)) / (window.std(1, keepdims=True) + 1e-6)))
    np.testing.assert_allclose(np.asarray(run.model(x)), np.asarray(expected), atol=1e-5)
    assert run.spec.window_samples == 300 and run.spec.class_names == ["MI"]


def test_broken_run_folders_fail_with_one_line(tmp_path, capsys):
    from ecgtf.training.saved import load_run

    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(str(tmp_path / "nowhere"))
    run_dir = _old_run(tmp_path, "cut", TrainConfig(model="compact1d", sampling_rate=100.0, duration_s=3.0),
                       get_model("compact1d", (300, 1), 1, filters=(8,), stem_filters=8))
    with open(os.path.join(run_dir, "model.keras"), "r+b") as f:
        f.truncate(100)
    with pytest.raises(ValueError, match="cannot be loaded"):
        load_run(run_dir)
    unknown = _old_run(tmp_path, "unknown", TrainConfig(model="tiny_image_cnn", sampling_rate=100.0, duration_s=3.0),
                       get_model("compact1d", (300, 1), 1, filters=(8,), stem_filters=8))
    assert run_cli(evaluate_script.main, ["--run", unknown]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tiny_image_cnn" in err[0]


def test_evaluate_on_a_dataset_without_the_task_says_so(tmp_path, capsys):
    run_dir = _old_run(tmp_path, "af", TrainConfig(model="compact1d", dataset="cinc2017", task="af4",
                                                  sampling_rate=100.0, duration_s=3.0),
                       get_model("compact1d", (300, 1), 4, activation="softmax", filters=(8,), stem_filters=8))
    argv = ["--run", run_dir, "--dataset", "ptbxl", "--data-dir", str(tmp_path)]
    assert run_cli(evaluate_script.main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'af4'" in err[0] and "ptbxl's tasks:" in err[0] and "superdiagnostic" in err[0]
