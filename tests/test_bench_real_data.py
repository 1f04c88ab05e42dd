"""Fold bookkeeping of benchmarks/bench_real_data.py (no training here)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import bench_real_data as bench  # noqa: E402


def test_cv_splits_rotate_test_and_validation_folds():
    splits = bench.cv_splits([1, 2, 3, 4])
    assert [(t, v) for t, v, _ in splits] == [(1, 2), (2, 3), (3, 4), (4, 1)]
    for test, val, train in splits:
        assert sorted([test, val, *train]) == [1, 2, 3, 4]


def test_fold_flags_are_read_and_replaced():
    args = ["--task", "x", "--train-folds", "1-6", "--val-folds", "7", "--test-folds", "8"]
    assert bench.fold_args(args) == {"--train-folds": [1, 2, 3, 4, 5, 6], "--val-folds": [7], "--test-folds": [8]}
    out = bench.with_folds(args, [1, 2, 3, 4, 5, 7], 6, 8)
    assert bench.fold_args(out) == {"--train-folds": [1, 2, 3, 4, 5, 7], "--val-folds": [6], "--test-folds": [8]}
    assert out[:2] == ["--task", "x"]


def test_ensemble_refuses_experiments_without_test_folds_or_foreign_folds(tmp_path):
    with pytest.raises(SystemExit, match="PTB-XL experiment with a test fold"):
        bench.run_ensemble("cinc2017_af4", "data", str(tmp_path), [], [7, 6])
    with pytest.raises(SystemExit, match="must come from"):
        bench.run_ensemble("ptbxl_superdiagnostic", "data", str(tmp_path), [], [8, 9])
