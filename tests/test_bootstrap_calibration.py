"""Bootstrap intervals, calibration errors and the ROC operating point (ecgtf.evaluation)."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ecgtf.data.tasks import Task
from ecgtf.evaluation.bootstrap import auc_rows, bootstrap_scores, confidence_intervals, resample_indices
from ecgtf.evaluation.calibration import calibration_report, expected_calibration_error, reliability_curves
from ecgtf.evaluation.plots import sensitivity_specificity
from ecgtf.evaluation.scores import compute_metrics
from ecgtf.training.report import summary_lines, write_report

BINARY = Task("mi_vs_norm", ("NORM", "MI"), "binary", "auc")
AF4 = Task("af4", ("N", "A", "O", "~"), "multiclass", "cinc2017_f1")
MULTI = Task("superdiagnostic", ("NORM", "MI", "STTC", "CD", "HYP"), "multilabel", "macro_auc")


def _multilabel(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 5)) < 0.3).astype(int)
    return y, np.clip(0.5 * y + 0.6 * rng.random((n, 5)), 0, 1)


def test_rank_auc_equals_sklearn_with_ties():
    rng = np.random.default_rng(1)
    labels = (rng.random((20, 40)) < 0.4).astype(int)
    scores = np.round(rng.random((20, 40)), 1)  # many ties
    labels[0] = 0  # one class only: undefined
    got = auc_rows(labels, scores)
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1:], [roc_auc_score(labels[r], scores[r]) for r in range(1, 20)], atol=1e-12)


def test_resampled_scores_match_compute_metrics():
    rng = np.random.default_rng(2)
    idx = resample_indices(60, 5, seed=3)
    y_idx = rng.integers(0, 4, 60)
    prob = rng.dirichlet(np.ones(4), 60) + 0.4 * np.eye(4)[y_idx]
    prob /= prob.sum(axis=1, keepdims=True)
    y = np.eye(4)[y_idx]
    boot = bootstrap_scores(AF4, y, prob, idx)
    y_ml, p_ml = _multilabel()
    idx_ml = resample_indices(len(y_ml), 5, seed=4)
    boot_ml = bootstrap_scores(MULTI, y_ml, p_ml, idx_ml)
    for r in range(5):
        ref = compute_metrics(AF4, y[idx[r]], prob[idx[r]])
        assert boot["cinc2017_f1"][r] == pytest.approx(ref["cinc2017_f1"])
        assert boot["macro_auc"][r] == pytest.approx(ref["macro_auc"])
        ref_ml = compute_metrics(MULTI, y_ml[idx_ml[r]], p_ml[idx_ml[r]])
        assert boot_ml["macro_auc"][r] == pytest.approx(ref_ml["macro_auc"])


def test_interval_holds_the_estimate_and_narrows_with_records():
    def ci(n):
        rng = np.random.default_rng(5)
        y = (rng.random(n) < 0.4).astype(int)[:, None]
        p = np.clip(y * 0.35 + rng.random(y.shape), 0, 1)
        est = compute_metrics(BINARY, y, p)["auc"]
        out = confidence_intervals(BINARY, y, p, n_boot=400)["auc"]
        assert out["low"] < est < out["high"] and out["n_boot"] == 400
        return out["high"] - out["low"]

    assert ci(800) < 0.6 * ci(100)


def test_ece_of_calibrated_and_overconfident_outputs():
    rng = np.random.default_rng(6)
    p = rng.random(20000)
    calibrated = (rng.random(20000) < p).astype(int)
    assert expected_calibration_error(calibrated, p) < 0.02
    overconfident = np.where(p > 0.5, 1.0, 0.0)  # says 0 or 1, right only as often as p says
    assert expected_calibration_error(calibrated, overconfident) > 0.2
    # by hand: two bins, [0.05 x2 (one positive)] and [0.95 x2 (both positive)]
    assert expected_calibration_error([0, 1, 1, 1], [0.05, 0.05, 0.95, 0.95]) == pytest.approx((0.9 + 0.1) / 4)


def test_reliability_curves_and_report():
    y, p = _multilabel()
    curves = reliability_curves(MULTI, y, p)
    report = calibration_report(MULTI, y, p)
    assert set(curves) == set(report["ece"]) == set(MULTI.classes)
    for name, (mean_prob, freq, count) in curves.items():
        c = MULTI.classes.index(name)
        assert count.sum() == len(y)
        # the ECE is the count-weighted gap of the very curve that is drawn
        assert report["ece"][name] == pytest.approx(np.sum(count * np.abs(freq - mean_prob)) / len(y))
        assert report["ece"][name] == pytest.approx(expected_calibration_error(y[:, c], p[:, c]))


def test_operating_point_matches_the_binary_metrics():
    rng = np.random.default_rng(7)
    y = (rng.random(200) < 0.4).astype(int)[:, None]
    p = np.clip(y * 0.3 + rng.random(y.shape), 0, 1)
    m = compute_metrics(BINARY, y, p, thresholds=[0.6])
    (sens, spec), = sensitivity_specificity(y, p >= 0.6)
    assert (sens, spec) == (pytest.approx(m["sensitivity"]), pytest.approx(m["specificity"]))


def test_write_report_adds_intervals_calibration_and_plots(tmp_path):
    y, p = _multilabel()
    metrics = write_report(MULTI, y, p, str(tmp_path), thresholds=[0.5] * 5)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["ci95"]["macro_auc"]["low"] < saved["macro_auc"] < saved["ci95"]["macro_auc"]["high"]
    assert set(saved["calibration"]["ece"]) == set(MULTI.classes)
    assert (tmp_path / "calibration.png").stat().st_size > 5000 and (tmp_path / "roc.png").exists()
    lines = summary_lines(MULTI, metrics)
    assert "95% CI" in lines[0] and any("calibration error" in line for line in lines)
