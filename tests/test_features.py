"""The features view: ECG measurements, gradient-boosted trees, its run folder and its place in ensembles."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

from ecgtf.data.synthetic import LEADS_12, synthesize_ecg  # noqa: E402
from ecgtf.features.ecg_features import ecg_features, feature_matrix, feature_names  # noqa: E402
from ecgtf.features.gbm import FeatureGBM, GBMParams, is_current  # noqa: E402

SMALL = GBMParams(max_iter=15, max_leaf_nodes=7)


def _named(x, leads=LEADS_12):
    return dict(zip(feature_names(leads), x))


def test_one_name_per_value_for_twelve_leads_and_one():
    x = synthesize_ecg({"normal"}, 100, 10, rng=0)
    assert len(ecg_features(x, 100, LEADS_12)) == len(feature_names(LEADS_12)) == 12 * 48 + 44
    single = synthesize_ecg({"normal"}, 300, 10, lead_names=("ECG",), rng=0)
    assert len(ecg_features(single, 300, ["ECG"])) == len(feature_names(["ECG"])) == 48 + 44
    with pytest.raises(ValueError, match="2 lead names"):
        ecg_features(single, 300, ["a", "b"])


def test_rhythm_features_match_the_generators_heart_rate_at_any_rate():
    x, info = synthesize_ecg({"normal"}, 500, 10, rng=1, return_info=True)
    at_500 = _named(ecg_features(x, 500, LEADS_12))
    at_100 = _named(ecg_features(x[::5], 100, LEADS_12))
    assert at_500["rr_mean_s"] == pytest.approx(60.0 / info.heart_rate_bpm, rel=0.05)
    assert at_100["rr_mean_s"] == pytest.approx(at_500["rr_mean_s"], abs=0.011)
    assert at_100["r_mv_V5"] == pytest.approx(at_500["r_mv_V5"], rel=0.1)


def test_voltage_and_irregularity_features_see_lvh_and_af():
    normal = np.mean([_named(ecg_features(synthesize_ecg({"normal"}, 100, 10, rng=s), 100, LEADS_12))["sokolow_lyon_mv"]
                      for s in range(4)])
    lvh = np.mean([_named(ecg_features(synthesize_ecg({"lvh"}, 100, 10, rng=s), 100, LEADS_12))["sokolow_lyon_mv"]
                   for s in range(4)])
    assert lvh > normal + 0.5
    sinus = _named(ecg_features(synthesize_ecg({"normal"}, 100, 10, rng=2), 100, LEADS_12))
    af = _named(ecg_features(synthesize_ecg({"af"}, 100, 10, rng=2), 100, LEADS_12))
    assert af["rr_sd_s"] > 2 * sinus["rr_sd_s"]


def test_ectopy_and_noise_show_in_beat_sameness_and_premature_beats():
    def mean_of(condition, name):
        return np.mean([_named(ecg_features(synthesize_ecg({condition}, 100, 10, rng=s), 100, LEADS_12))[name]
                        for s in range(4)])

    assert mean_of("normal", "premature_share") < 0.05 < mean_of("pvc", "premature_share")
    assert mean_of("normal", "beat_corr_mean") > 0.9 > mean_of("pvc", "beat_corr_mean") > mean_of("noise", "beat_corr_mean")
    sinus = _named(ecg_features(synthesize_ecg({"normal"}, 100, 10, rng=0), 100, LEADS_12))
    assert sinus["duration_s"] == pytest.approx(10.0) and sinus["flat_share"] < 0.01
    stuck = synthesize_ecg({"normal"}, 100, 10, rng=0)
    stuck[500:] = 0.0  # a lead-off halfway
    assert _named(ecg_features(stuck, 100, LEADS_12))["flat_share"] > 0.3


def test_p_wave_spectrum_and_polarity_features():
    def mean_of(condition, name):
        return np.mean([_named(ecg_features(synthesize_ecg({condition}, 100, 10, rng=s), 100, LEADS_12))[name]
                        for s in range(4)])

    # atrial fibrillation has no P wave: the P window neither stands out nor repeats beat to beat
    assert mean_of("normal", "p_beat_corr") > mean_of("af", "p_beat_corr") + 0.2
    assert mean_of("normal", "p_to_qrs") > 1.5 * mean_of("af", "p_to_qrs")
    assert mean_of("af", "rr_off_median_share") > mean_of("normal", "rr_off_median_share") + 0.1
    lead_ii = synthesize_ecg({"normal"}, 100, 10, rng=0)[:, 1:2]
    upright = _named(ecg_features(lead_ii, 100, ["II"]), ["II"])
    bands = [k for k in upright if k.startswith("power_")]
    assert len(bands) == 5 and sum(upright[k] for k in bands) == pytest.approx(1.0, abs=1e-4)
    assert mean_of("noise", "power_30_50hz") > 2 * mean_of("normal", "power_30_50hz")
    # an upside-down recording (a handheld device held the wrong way) flips the QRS polarity
    flipped = _named(ecg_features(-lead_ii, 100, ["II"]), ["II"])
    assert upright["qrs_polarity"] > 0.3
    assert flipped["qrs_polarity"] == pytest.approx(-upright["qrs_polarity"], abs=0.05)
    assert 0.2 < upright["t_peak_s"] < 0.45


def test_q_wave_features_see_the_pathological_q_of_an_infarct():
    """The generator gives 60 % of its infarcts a Q wave of -0.3 mV in the territory's leads."""
    def q_depths(condition, lead):
        return np.array([_named(ecg_features(synthesize_ecg({condition}, 100, 10, rng=s), 100, LEADS_12))[f"q_mv_{lead}"]
                         for s in range(8)])

    for condition, lead in [("mi_anterior", "V2"), ("mi_inferior", "II")]:
        normal, infarct = q_depths("normal", lead), q_depths(condition, lead)
        assert (normal > -0.1).all() and (infarct < -0.2).sum() >= 3, (condition, normal, infarct)


def test_flat_or_short_signal_gives_nan_not_an_error():
    flat = ecg_features(np.zeros((1000, 12), np.float32), 100, LEADS_12)
    assert np.isnan(flat).all()
    assert np.isnan(ecg_features(np.ones((5, 12), np.float32), 100, LEADS_12)).all()


def _toy(kind, n=80, seed=0):
    """Features whose first column carries the labels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(feature_names(["I"])))).astype(np.float32)
    if kind == "multiclass":
        y = np.eye(3, dtype=np.int8)[np.digitize(x[:, 0], [-0.4, 0.4])]
        return x, y, ["N", "A", "O"]
    if kind == "binary":
        return x, (x[:, :1] > 0).astype(np.int8), ["MI"]
    return x, np.stack([x[:, 0] > 0, x[:, 1] > 0], axis=1).astype(np.int8), ["NORM", "MI"]


@pytest.mark.parametrize("kind", ["binary", "multilabel", "multiclass"])
def test_trees_learn_and_survive_a_save(kind, tmp_path):
    x, y, names = _toy(kind)
    model = FeatureGBM(kind, names, ["I"], 100.0, SMALL).fit(x[:60], y[:60])
    p = model.predict_proba(x[60:])
    assert p.shape == (20, len(names)) and np.isfinite(p).all()
    if kind == "multiclass":
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        assert (p.argmax(1) == y[60:].argmax(1)).mean() > 0.7
    else:
        assert ((p > 0.5) == y[60:]).mean() > 0.8
    model.save(tmp_path)
    again = FeatureGBM.load(tmp_path)
    assert again.class_names == names and again.params == SMALL
    np.testing.assert_allclose(again.predict_proba(x[60:]), p)


def test_a_column_without_any_value_is_left_out():
    """Single-lead records have no axis or voltage criteria: all-NaN columns the trees would refuse."""
    x, y, names = _toy("multiclass")
    x[:, 2] = np.nan
    model = FeatureGBM("multiclass", names, ["ECG"], 300.0, SMALL).fit(x, y)
    assert model.columns == [c for c in range(x.shape[1]) if c != 2]
    assert model.predict_proba(x[:5]).shape == (5, 3)


def test_one_class_training_data_and_a_broken_file_are_one_line_errors(tmp_path):
    x, y, names = _toy("binary")
    with pytest.raises(ValueError, match="class MI: the training records are all 0"):
        FeatureGBM("binary", names, ["I"], 100.0, SMALL).fit(x, np.zeros_like(y))
    FeatureGBM("binary", names, ["I"], 100.0, SMALL).fit(x, y).save(tmp_path)
    (tmp_path / "features_model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="cannot be read"):
        FeatureGBM.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a features run"):
        FeatureGBM.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="the model takes"):
        FeatureGBM("binary", names, ["I"], 100.0, SMALL).fit(x, y).predict_proba(x[:, :-1])
    with pytest.raises(ValueError, match="feature columns but"):
        FeatureGBM("binary", names, ["I"], 100.0, SMALL).fit(x[:, :-1], y)


def test_trees_fitted_on_another_feature_set_are_refused_not_misread(tmp_path):
    """A model saved by an ecgtf that measured other features (or before the names were saved)."""
    import json

    x, y, names = _toy("binary")
    FeatureGBM("binary", names, ["I"], 100.0, SMALL).fit(x, y).save(tmp_path)
    info_path = tmp_path / "features_model.json"
    info = json.loads(info_path.read_text())
    assert info["feature_names"] == feature_names(["I"]) and is_current(tmp_path)
    info["feature_names"] = info["feature_names"][:-3]
    info_path.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="another feature set"):
        FeatureGBM.load(tmp_path)
    assert not is_current(tmp_path) and not is_current(tmp_path / "nothing")
    del info["feature_names"]
    info_path.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="another feature set"):
        FeatureGBM.load(tmp_path)


def test_feature_matrix_rows_are_the_records_features():
    xs = [synthesize_ecg({"normal"}, 100, 5, rng=s) for s in range(3)]
    m = feature_matrix(xs, 100, LEADS_12, progress=False)
    np.testing.assert_array_equal(m[1], ecg_features(xs[1], 100, LEADS_12))
    assert feature_matrix([], 100, LEADS_12).shape == (0, len(feature_names(LEADS_12)))


@pytest.fixture(scope="module")
def features_run(tmp_path_factory):
    """A features run on a small PTB-XL layout (train folds 1-6, validation 7, test 8)."""
    from data_builders import write_ptbxl

    from ecgtf.data.synthetic import synthesize_ecg as synth
    import train_features as script

    tmp = tmp_path_factory.mktemp("feat")
    records = [{"scp_codes": {{"MI": "IMI", "NORM": "NORM"}[c]: 100.0}, "fold": 1 + (i // 2) % 8, "signal": synth(
        {"MI": {"mi_inferior"}, "NORM": {"normal"}}[c], 100, 10, rng=i)} for i, c in enumerate(["MI", "NORM"] * 40)]
    root = write_ptbxl(tmp / "ptbxl", records, seconds=10)
    out = tmp / "run"
    metrics = script.main(["--dataset", "ptbxl", "--data-dir", root, "--task", "mi_vs_norm", "--train-folds", "1-6",
                           "--val-folds", "7", "--test-folds", "8", "--max-iter", "20", "--out", str(out)])
    return {"root": root, "out": str(out), "metrics": metrics, "tmp": tmp}


def test_features_run_folder_scores_and_predicts_files(features_run, capsys):
    import ensemble as ensemble_script
    import predict as predict_script

    out, metrics = features_run["out"], features_run["metrics"]
    for name in ("features_config.json", "features_model.joblib", "thresholds.json", "test_predictions.csv",
                 "test_metrics.json", "predictions.csv"):
        assert os.path.isfile(os.path.join(out, name)), name
    assert metrics["test"]["auc"] > 0.8 and metrics["test"]["n_records"] == 10
    rows = predict_script.main(["--model", out, "--input", os.path.join(features_run["root"], "records100")])
    assert len(rows) == 80 and set(rows[0]["probabilities"]) == {"MI"}
    # beside itself (a stand-in for a network run): ensemble.py scores and writes a folder predict.py reads
    ens = features_run["tmp"] / "ens"
    ensemble_script.main(["--runs", out, out, "--out", str(ens)])
    assert "averages the members" in capsys.readouterr().out
    again = predict_script.main(["--model", str(ens), "--input", os.path.join(features_run["root"], "records100")])
    assert [r["probabilities"] for r in again] == [r["probabilities"] for r in rows]


def test_mean_predictor_decodes_each_member_its_own_way(features_run, tmp_path, monkeypatch):
    """A member trained on band-passed signals gets them band-passed; the features member gets them raw."""
    from ecgtf.serving import predictor as pred

    seen = {}

    class Net:
        def __init__(self, run_dir):
            self.info = pred.ModelInfo(100.0, 12, list(pred.FeaturesPredictor(features_run["out"]).info.lead_names),
                                       ["MI"], "binary", None, "bandpass")

        def probabilities(self, signals):
            seen["net"] = signals[0]
            return np.full((len(signals), 1), 0.2, np.float32)

    real = pred.load_predictor
    monkeypatch.setattr(pred, "load_predictor", lambda d: Net(d) if d.endswith("net") else real(d))
    (tmp_path / "net").mkdir()
    import ensemble as ensemble_script

    ensemble_script.main(["--runs", features_run["out"], str(tmp_path / "net"), "--split", "none",
                          "--out", str(tmp_path / "final")])
    mean = pred.MeanPredictor(str(tmp_path / "final"))
    x = synthesize_ecg({"normal"}, 100, 10, rng=5)
    p = mean.probabilities([x])
    from ecgtf.data.transforms import decode_signal

    np.testing.assert_allclose(seen["net"], decode_signal(x, 100, 100, "bandpass"))
    alone = pred.FeaturesPredictor(features_run["out"]).probabilities([x])
    np.testing.assert_allclose(p, (alone + 0.2) / 2, rtol=1e-6)


def test_scripts_that_need_a_keras_model_say_what_reads_a_tree_folder(features_run, tmp_path, capsys):
    import ensemble as ensemble_script
    import evaluate as evaluate_script
    import export as export_script

    from ecgtf.errors import run_cli

    assert run_cli(evaluate_script.main, ["--run", features_run["out"]]) == 2
    assert "is a features run (gradient-boosted trees, no Keras model): predict.py" in capsys.readouterr().err
    ensemble_script.main(["--runs", features_run["out"], features_run["out"], "--split", "none", "--out",
                          str(tmp_path / "mean")])
    assert run_cli(export_script.main, ["--run", str(tmp_path / "mean"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "averages a features run (trees) with networks" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_features_config_is_one_line(tmp_path):
    from ecgtf.training.features_run import read_features_config

    (tmp_path / "features_config.json").write_text('{"dataset": "ptbxl", "colour": 1}')
    with pytest.raises(ValueError, match="features_config.json cannot be read"):
        read_features_config(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not a features run"):
        read_features_config(str(tmp_path / "none"))


def test_members_that_cannot_be_averaged_are_refused_when_the_folder_is_written(features_run, tmp_path, monkeypatch):
    import ensemble as ensemble_script

    from ecgtf.serving import predictor as pred

    class Other:
        def __init__(self, run_dir):
            self.info = pred.ModelInfo(100.0, 12, [], ["NORM", "MI"], "multilabel", None)

    real = pred.load_predictor
    monkeypatch.setattr(pred, "load_predictor", lambda d: Other(d) if d.endswith("other") else real(d))
    (tmp_path / "other").mkdir()
    with pytest.raises(ValueError, match="differ in their classes"):
        ensemble_script.main(["--runs", features_run["out"], str(tmp_path / "other"), "--split", "none",
                              "--out", str(tmp_path / "final")])
    assert not (tmp_path / "final").exists()
