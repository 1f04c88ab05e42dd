"""Paired comparison of two runs (ecgtf.evaluation.compare, scripts/compare.py)."""

import os
import sys

import numpy as np
import pandas as pd
import pytest

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.data.datasets import task_for
from ecgtf.evaluation.compare import align_predictions, paired_bootstrap

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import compare as compare_script  # noqa: E402

TASK = task_for("ptbxl", "mi_vs_norm")


def _binary(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)[:, None]
    good = np.clip(y + rng.normal(0, 0.35, y.shape), 0, 1)     # AUC near 0.97
    poor = np.clip(y * 0.3 + rng.random(y.shape), 0, 1)        # AUC near 0.65
    return y, poor, good


def test_paired_bootstrap_finds_the_better_model():
    y, poor, good = _binary()
    r = paired_bootstrap(TASK, y, poor, good, n_boot=300)
    assert r["score"] == "auc" and r["score_b"] > r["score_a"] + 0.15
    assert r["diff"] == pytest.approx(r["score_b"] - r["score_a"])
    assert 0 < r["ci95"][0] < r["diff"] < r["ci95"][1]
    assert r["p_b_better"] == 1.0 and r["n_records"] == 120


def test_paired_bootstrap_of_a_model_with_itself_is_zero():
    y, poor, _ = _binary()
    r = paired_bootstrap(TASK, y, poor, poor, n_boot=50)
    assert r["diff"] == 0 and r["ci95"] == [0.0, 0.0] and r["p_b_better"] == 0.0


def _frame(ids, y, prob):
    return pd.DataFrame({"record_id": ids, "true_MI": y[:, 0], "prob_MI": prob[:, 0]})


def test_align_keeps_shared_records_and_checks_labels():
    y, poor, good = _binary(10)
    ids = [f"r{i}" for i in range(10)]
    a, b = _frame(ids, y, poor), _frame(ids[::-1], y[::-1], good[::-1]).iloc[:7]
    y_true, pa, pb, shared = align_predictions(a, b)
    assert len(shared) == 7 and set(shared) == set(ids[3:])
    np.testing.assert_allclose(pb[:, 0], good[3:, 0])
    with pytest.raises(ValueError, match="disagree"):
        align_predictions(a, _frame(ids, 1 - y, good))
    with pytest.raises(ValueError, match="share no record"):
        align_predictions(a, _frame([f"x{i}" for i in range(10)], y, good))


def test_compare_script_on_two_run_folders(tmp_path, capsys):
    y, poor, good = _binary()
    ids = [f"{i:05d}" for i in range(len(y))]
    for name, prob in (("a", poor), ("b", good)):
        run = tmp_path / name
        run.mkdir()
        cfglib.save(TrainConfig(dataset="ptbxl", task="mi_vs_norm"), str(run / "config.yaml"))
        _frame(ids, y, prob).to_csv(run / "test_predictions.csv", index=False)
    r = compare_script.main(["--runs", str(tmp_path / "a"), str(tmp_path / "b"), "--n-boot", "100",
                             "--out", str(tmp_path / "cmp.json")])
    assert r["diff"] > 0.15 and os.path.isfile(tmp_path / "cmp.json")
    assert "95% CI" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no val predictions"):
        compare_script.main(["--runs", str(tmp_path / "a"), str(tmp_path / "b"), "--split", "val"])


def test_task_for_needs_data_dir_only_for_table_built_tasks():
    assert task_for("synthetic", "af4").classes == ("N", "A", "O", "~")
    with pytest.raises(KeyError, match="valid datasets"):
        task_for("mitdb", "af4")


def test_predictions_file_keeps_tiny_probabilities_apart(tmp_path):
    from ecgtf.training.report import write_predictions

    prob = np.array([[1e-9], [2e-9], [0.5], [0.999999991]], dtype=np.float32)
    y = np.array([[0], [1], [0], [1]])
    path = write_predictions(TASK, ["a", "b", "c", "d"], y, prob, str(tmp_path / "p.csv"))
    back = pd.read_csv(path)["prob_MI"].to_numpy()
    np.testing.assert_allclose(back, prob[:, 0], rtol=1e-7)
    assert len(np.unique(back)) == 4            # rounding would tie the first two (and change AUC)
