"""Tests for ecgtf.evaluation.scores and ecgtf.evaluation.thresholds."""

import json
import math
import os

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from ecgtf.data.tasks import Task
from ecgtf.evaluation.scores import (
    EQUIVALENT_CLASSES,
    challenge_metric,
    cinc2017_f1,
    compute_metrics,
    load_weights,
    macro_auroc,
    macro_f1,
    main_score,
)
from ecgtf.evaluation.thresholds import apply_thresholds, tune_thresholds

SCORING = "/work/shared/data/cinc2020/scoring"


# ------------------------------------------------------------------ independent references

def reference_challenge_metric(labels, outputs, classes, weights, normal_class):
    """Straightforward loop version of the official 2020 definition."""
    labels = np.asarray(labels, bool)
    outputs = np.asarray(outputs, bool)
    n, c = labels.shape

    def confusion(lab, out):
        a = np.zeros((c, c))
        for i in range(n):
            norm = max(1, sum(1 for k in range(c) if lab[i, k] or out[i, k]))
            for j in range(c):
                for k in range(c):
                    if lab[i, j] and out[i, k]:
                        a[j, k] += 1.0 / norm
        return a

    inactive = np.zeros_like(labels)
    inactive[:, classes.index(normal_class)] = True
    obs = np.sum(weights * confusion(labels, outputs))
    cor = np.sum(weights * confusion(labels, labels))
    ina = np.sum(weights * confusion(labels, inactive))
    return 0.0 if cor == ina else (obs - ina) / (cor - ina)


def reference_cinc2017(y_true, y_pred):
    cm = np.zeros((4, 4))
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    f1 = [2 * cm[x, x] / (cm[x, :].sum() + cm[:, x].sum()) for x in range(4)]
    return f1, float(np.mean(f1[:3]))


# ------------------------------------------------------------------ CinC 2017

def test_cinc2017_f1_hand_example():
    # confusion rows (reference) N:[1,1,0,0] A:[0,2,0,0] O:[0,0,1,0] ~:[0,0,1,0]
    out = cinc2017_f1([0, 0, 1, 1, 2, 3], [0, 1, 1, 1, 2, 2])
    assert out["F1_N"] == pytest.approx(2 / 3)
    assert out["F1_A"] == pytest.approx(0.8)
    assert out["F1_O"] == pytest.approx(2 / 3)
    assert out["F1_~"] == pytest.approx(0.0)
    assert out["cinc2017_f1"] == pytest.approx((2 / 3 + 0.8 + 2 / 3) / 3)


def test_cinc2017_f1_matches_reference_on_random_data():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 4, 200))
    out = cinc2017_f1(y_true, y_pred)
    f1, mean = reference_cinc2017(y_true, y_pred)
    assert [out[f"F1_{c}"] for c in "NAO~"] == pytest.approx(f1)
    assert out["cinc2017_f1"] == pytest.approx(mean)


def test_cinc2017_f1_absent_class_is_nan_and_skipped():
    out = cinc2017_f1([0, 0, 1], [0, 0, 1])  # O and ~ never appear
    assert math.isnan(out["F1_O"])
    assert out["cinc2017_f1"] == pytest.approx(1.0)


# ------------------------------------------------------------------ CinC 2020

W3 = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
C3 = ["1", "2", "9"]  # "9" plays the normal class


def test_challenge_metric_hand_example():
    labels = np.array([[1, 0, 0], [0, 0, 1]])
    outputs = np.array([[0, 1, 0], [0, 0, 1]])
    # observed: record 1 adds 1/2 to A[1,2] (w 0.5), record 2 adds 1 to A[9,9] -> 1.25
    # correct: 1 + 1 = 2; inactive: record 1 adds 1/2 to A[1,9] (w 0) + 1 -> 1
    assert challenge_metric(labels, outputs, C3, W3, normal_class="9") == pytest.approx(0.25)


def test_challenge_metric_perfect_and_inactive():
    rng = np.random.default_rng(0)
    labels = rng.random((30, 3)) < 0.4
    labels[~labels.any(axis=1), 2] = True
    inactive = np.zeros_like(labels)
    inactive[:, 2] = True
    assert challenge_metric(labels, labels, C3, W3, "9") == pytest.approx(1.0)
    assert challenge_metric(labels, inactive, C3, W3, "9") == pytest.approx(0.0)


def test_challenge_metric_matches_reference_implementation():
    rng = np.random.default_rng(2)
    c = 6
    w = rng.random((c, c))
    w = (w + w.T) / 2
    np.fill_diagonal(w, 1.0)
    classes = [str(100 + k) for k in range(c)]
    for _ in range(5):
        labels = rng.random((40, c)) < 0.3
        outputs = rng.random((40, c)) < 0.3
        expected = reference_challenge_metric(labels, outputs, classes, w, "103")
        assert challenge_metric(labels, outputs, classes, w, "103") == pytest.approx(expected)


def test_challenge_metric_unknown_normal_class_raises():
    with pytest.raises(ValueError, match="normal class"):
        challenge_metric(np.ones((2, 3)), np.ones((2, 3)), C3, W3, normal_class="426783006")


def test_macro_f1_and_auroc_skip_undefined_classes():
    labels = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    outputs = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 0], [0, 1, 0]])
    scores = np.array([[0.9, 0.1, 0.2], [0.2, 0.4, 0.1], [0.8, 0.7, 0.3], [0.1, 0.6, 0.4]])
    # class 0: F1 1; class 1: 2*1/(2+1+1) = 0.5; class 2: nothing -> excluded
    assert macro_f1(labels, outputs) == pytest.approx(0.75)
    expected_auc = np.mean([roc_auc_score(labels[:, k], scores[:, k]) for k in (0, 1)])
    assert macro_auroc(labels, scores) == pytest.approx(expected_auc)


def _write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write("," + ",".join(header) + "\n")
        for name, row in zip(header, rows):
            f.write(name + "," + ",".join(str(v) for v in row) + "\n")


def test_load_weights_merges_equivalent_classes_2020_style(tmp_path):
    a, b = EQUIVALENT_CLASSES[0]
    header = ["111", a, "426783006", b]
    w = np.array([[1, 0.4, 0.2, 0.4], [0.4, 1, 0.3, 1], [0.2, 0.3, 1, 0.3], [0.4, 1, 0.3, 1]])
    path = tmp_path / "weights.csv"
    _write_csv(path, header, w)
    classes, weights = load_weights(str(path))
    assert classes == ["111", a, "426783006"]
    np.testing.assert_allclose(weights, w[:3, :3])
    # asking by the second code of a pair, in another order
    classes, weights = load_weights(str(path), classes=["426783006", b])
    assert classes == ["426783006", a]
    np.testing.assert_allclose(weights, [[1, 0.3], [0.3, 1]])


def test_load_weights_2021_pipe_style_and_errors(tmp_path):
    a, b = EQUIVALENT_CLASSES[1]
    path = tmp_path / "weights.csv"
    _write_csv(path, ["111", f"{a}|{b}"], [[1, 0.5], [0.5, 1]])
    classes, weights = load_weights(str(path), classes=[b, "111"])
    assert classes == [a, "111"]
    np.testing.assert_allclose(weights, [[1, 0.5], [0.5, 1]])
    with pytest.raises(ValueError, match="not in"):
        load_weights(str(path), classes=["999"])
    bad = tmp_path / "bad.csv"
    _write_csv(bad, ["111", a, b], [[1, 0.1, 0.2], [0.1, 1, 1], [0.2, 1, 1]])
    with pytest.raises(ValueError, match="different weights"):
        load_weights(str(bad))


@pytest.mark.parametrize("year, n_classes", [("2020", 24), ("2021", 26)])
def test_official_weight_tables(year, n_classes):
    path = os.path.join(SCORING, f"evaluation-{year}", "weights.csv")
    if not os.path.isfile(path):
        pytest.skip("official scoring tables not available")
    classes, w = load_weights(path)
    assert len(classes) == n_classes
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(np.diag(w), 1.0)
    assert not any(second in classes for _, second in EQUIVALENT_CLASSES)
    rng = np.random.default_rng(3)
    labels = rng.random((50, n_classes)) < 0.15
    normal = classes.index("426783006")
    labels[~labels.any(axis=1), normal] = True
    inactive = np.zeros_like(labels)
    inactive[:, normal] = True
    assert challenge_metric(labels, labels, classes, w) == pytest.approx(1.0)
    assert challenge_metric(labels, inactive, classes, w) == pytest.approx(0.0)
    outputs = rng.random((50, n_classes)) < 0.15
    assert challenge_metric(labels, outputs, classes, w) == pytest.approx(
        reference_challenge_metric(labels, outputs, classes, w, "426783006"))


# ------------------------------------------------------------------ compute_metrics

def test_compute_metrics_binary():
    task = Task("mi", ("other", "MI"), "binary", "auc")
    y = np.array([[0], [0], [1], [1], [1], [0]])
    p = np.array([[0.1], [0.6], [0.7], [0.4], [0.9], [0.2]])
    m = compute_metrics(task, y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y[:, 0], p[:, 0]))
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(2 / 3)
    m = compute_metrics(task, y, p, thresholds=[0.35])
    assert m["sensitivity"] == pytest.approx(1.0)
    assert main_score(task, m) == m["auc"]
    json.dumps(m)


def test_compute_metrics_af4_multiclass():
    task = Task("af4", ("N", "A", "O", "~"), "multiclass", "cinc2017_f1")
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 4, 60)
    prob = rng.random((60, 4)) + 2 * np.eye(4)[idx] * (rng.random((60, 1)) < 0.7)
    prob /= prob.sum(axis=1, keepdims=True)
    m = compute_metrics(task, np.eye(4)[idx], prob)
    pred = prob.argmax(axis=1)
    assert m["cinc2017_f1"] == pytest.approx(reference_cinc2017(idx, pred)[1])
    assert m["accuracy"] == pytest.approx(np.mean(pred == idx))
    assert m["macro_f1"] == pytest.approx(f1_score(idx, pred, average="macro"))
    assert np.array(m["confusion_matrix"]).shape == (4, 4)
    assert np.sum(m["confusion_matrix"]) == 60
    assert set(m["per_class"]) == {"N", "A", "O", "~"}
    assert m["per_class"]["A"]["auc"] == pytest.approx(roc_auc_score(idx == 1, prob[:, 1]))
    assert {"F1_N", "F1_A", "F1_O", "F1_~"} <= set(m)
    assert main_score(task, m) == m["cinc2017_f1"]
    # class indices give the same result
    assert compute_metrics(task, idx, prob)["cinc2017_f1"] == m["cinc2017_f1"]
    json.dumps(m)


def test_compute_metrics_multilabel_class_without_positives():
    task = Task("superdiagnostic", ("NORM", "MI", "STTC"), "multilabel", "macro_auc")
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [1, 0, 0]])
    p = np.array([[0.8, 0.2, 0.1], [0.3, 0.7, 0.2], [0.6, 0.4, 0.3], [0.2, 0.1, 0.6], [0.4, 0.3, 0.1]])
    m = compute_metrics(task, y, p)
    assert math.isnan(m["per_class"]["STTC"]["auc"])
    expected = np.mean([roc_auc_score(y[:, k], p[:, k]) for k in (0, 1)])
    assert m["macro_auc"] == pytest.approx(expected)
    assert np.array(m["confusion_matrix"]).shape == (3, 2, 2)
    assert m["confusion_matrix"][0] == [[2, 0], [1, 2]]  # NORM: tn, fp / fn, tp
    text = json.dumps(m)
    assert "NaN" in text


def _scored_task(weights):
    codes = ["10", "20", "426783006"]
    return Task("scored27", ("A", "B", "NSR"), "multilabel", "challenge_metric",
                {"snomed_codes": codes, "normal_class": "426783006", "weights": weights})


def test_compute_metrics_scored27():
    task = _scored_task(W3)
    y = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 1]])
    p = np.array([[0.2, 0.9, 0.1], [0.1, 0.2, 0.8], [0.3, 0.7, 0.1], [0.9, 0.1, 0.7]])
    m = compute_metrics(task, y, p)
    expected = reference_challenge_metric(y, p >= 0.5, task.extras["snomed_codes"], W3, "426783006")
    assert m["challenge_metric"] == pytest.approx(expected)
    assert m["macro_auroc"] == pytest.approx(macro_auroc(y, p))
    assert m["macro_f1"] == pytest.approx(macro_f1(y, p >= 0.5))
    assert main_score(task, m) == m["challenge_metric"]
    json.dumps(m)


def test_compute_metrics_scored27_without_weights_notes_and_main_score_raises():
    task = _scored_task(None)
    y = np.array([[1, 0, 0], [0, 0, 1]])
    m = compute_metrics(task, y, y * 0.9)
    assert "challenge_metric" not in m and "challenge_metric_note" in m
    with pytest.raises(KeyError, match="challenge_metric"):
        main_score(task, m)


# ------------------------------------------------------------------ thresholds

def test_tune_thresholds_maximises_f1():
    task = Task("superdiagnostic", ("a", "b"), "multilabel", "macro_auc")
    rng = np.random.default_rng(5)
    y = (rng.random((80, 2)) < 0.3).astype(int)
    p = np.clip(0.35 * y + rng.random((80, 2)) * 0.7, 0, 1)
    thresholds = tune_thresholds(task, y, p)
    assert len(thresholds) == 2
    for k in range(2):
        best = max(f1_score(y[:, k], p[:, k] >= t) for t in np.unique(p[:, k]))
        assert f1_score(y[:, k], p[:, k] >= thresholds[k]) == pytest.approx(best)
        assert f1_score(y[:, k], p[:, k] >= thresholds[k]) >= f1_score(y[:, k], p[:, k] >= 0.5)


def test_tune_thresholds_binary_no_positives_and_multiclass():
    binary = Task("mi", ("other", "MI"), "binary", "auc")
    assert tune_thresholds(binary, np.zeros((4, 1)), np.array([[0.1], [0.2], [0.3], [0.9]])) == [0.5]
    t = tune_thresholds(binary, np.array([[0], [1], [1], [0]]), np.array([[0.1], [0.4], [0.6], [0.3]]))
    assert t == [pytest.approx(0.4)]
    multiclass = Task("af4", ("N", "A", "O", "~"), "multiclass", "cinc2017_f1")
    assert tune_thresholds(multiclass, np.eye(4), np.eye(4)) is None


def test_apply_thresholds():
    ml = Task("superdiagnostic", ("a", "b"), "multilabel", "macro_auc")
    p = np.array([[0.3, 0.6], [0.7, 0.2]])
    np.testing.assert_array_equal(apply_thresholds(ml, p), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(apply_thresholds(ml, p, [0.25, 0.7]), [[1, 0], [1, 0]])
    mc = Task("af4", ("N", "A", "O"), "multiclass", "cinc2017_f1")
    np.testing.assert_array_equal(apply_thresholds(mc, [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]),
                                  [[0, 1, 0], [1, 0, 0]])
