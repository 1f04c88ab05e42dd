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


def test_combinations_name_existing_experiments_of_one_task():
    for name, members in bench.COMBINED.items():
        tasks = {bench.EXPERIMENTS[m][1][bench.EXPERIMENTS[m][1].index("--task") + 1] for m in members}
        assert len(members) >= 2 and len(tasks) == 1, name
        assert bench.experiment_keys(name) == bench.EXPERIMENTS[members[0]][3]


def test_combined_cv_fold_trains_each_member_on_that_fold_then_ensembles(tmp_path, monkeypatch):
    calls = []

    def fake_run(name, data_root, out_root, extra, args=None, out_name=None, reuse=False):
        calls.append((name, out_root, out_name, bench.fold_args(args)))
        return {"name": name, "run_dir": os.path.join(out_root, out_name), "seconds": 1.0}

    combined = []
    monkeypatch.setattr(bench, "run", fake_run)
    monkeypatch.setattr(bench, "combine", lambda name, members, out: combined.append((name, members, out)) or {})
    name = "ptbxl_superdiagnostic_beat+resnet"
    bench.run_cv_fold(name, "data", str(tmp_path), [], test=3, val=4, train=[1, 2, 5, 6, 7, 8])
    assert [c[0] for c in calls] == list(bench.COMBINED[name])
    for member, (_, out_root, out_name, folds) in zip(bench.COMBINED[name], calls):
        assert out_root == os.path.join(str(tmp_path), f"{member}-cv") and out_name == "test3"
        assert folds == {"--train-folds": [1, 2, 5, 6, 7, 8], "--val-folds": [4], "--test-folds": [3]}
    (_, members, out), = combined
    assert [m["run_dir"] for m in members] == [os.path.join(str(tmp_path), f"{m}-cv", "test3")
                                               for m in bench.COMBINED[name]]
    assert out == os.path.join(str(tmp_path), f"{name}-cv", "test3")
    with pytest.raises(SystemExit, match="single experiments"):
        bench.run_ensemble(name, "data", str(tmp_path), [], [7, 6])
