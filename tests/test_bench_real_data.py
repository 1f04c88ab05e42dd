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


def test_cv_ensembles_validate_on_the_folds_after_the_test_fold():
    assert bench.cv_ensemble_val_folds([1, 2, 3, 4, 5, 6, 7, 8], 7, 3) == [8, 1, 2]
    assert bench.cv_ensemble_val_folds([1, 2, 3, 4], 1, 2) == [2, 3]
    with pytest.raises(SystemExit, match="2 to 3 members"):
        bench.cv_ensemble_val_folds([1, 2, 3, 4], 1, 4)


def test_ledger_keeps_finished_folds_across_sessions(tmp_path, monkeypatch):
    """Folds in the ledger are not trained again with --reuse, even without their run folders."""
    trained = []

    def fake_ensemble_fold(name, data_root, out_root, extra, test, folds, n, reuse=False):
        trained.append(test)
        return {"name": name, "scored_on": "x", "seconds": 1.0, "auc": 0.9 + test / 100, "f1": 0.5,
                "sensitivity": 0.5, "specificity": 0.5}

    monkeypatch.setattr(bench, "run_cv_ensemble_fold", fake_ensemble_fold)
    ledger = str(tmp_path / "results" / "ledger.json")
    first = bench.run_cv("ptbxl_mi_vs_norm_beat", "data", str(tmp_path), [], [1, 2, 3], reuse=True,
                         ensemble_members=2, ledger=ledger)
    assert trained == [1, 2, 3] and sorted(bench.read_ledger(ledger)) == [
        f"ptbxl_mi_vs_norm_beat-ens2/test{k}" for k in (1, 2, 3)]
    again = bench.run_cv("ptbxl_mi_vs_norm_beat", "data", str(tmp_path), [], [1, 2, 3], reuse=True,
                         ensemble_members=2, ledger=ledger)
    assert trained == [1, 2, 3] and again["auc_folds"] == first["auc_folds"]
    assert again["auc"] == pytest.approx(0.92)
    bench.run_cv("ptbxl_mi_vs_norm_beat", "data", str(tmp_path), [], [1, 2, 3], reuse=False,
                 ensemble_members=2, ledger=ledger)
    assert trained == [1, 2, 3, 1, 2, 3]  # without --reuse every fold trains again


def test_cv_ensemble_fold_trains_members_without_the_test_fold(tmp_path, monkeypatch):
    import json

    import ecgtf.training.ensemble_train as lib

    seen = {}

    def fake_train_ensemble(cfg, out, val_folds=None, seeds=None):
        seen.update(cfg=cfg, out=out, val_folds=val_folds)
        for sub in ["", *(f"members/val{v}" for v in val_folds)]:
            os.makedirs(os.path.join(out, sub), exist_ok=True)
            with open(os.path.join(out, sub, "test_metrics.json"), "w") as f:
                json.dump({"macro_auc": 0.9}, f)
        with open(os.path.join(out, "ensemble.json"), "w") as f:
            json.dump({}, f)

    monkeypatch.setattr(lib, "train_ensemble", fake_train_ensemble)
    r = bench.run_cv_ensemble_fold("ptbxl_superdiagnostic_beat", str(tmp_path / "data"), str(tmp_path), [],
                                   test=8, folds=list(range(1, 9)), n=3)
    cfg = seen["cfg"]
    assert seen["val_folds"] == [1, 2, 3] and cfg.test_folds == [8] and cfg.task == "superdiagnostic"
    assert sorted(cfg.train_folds + cfg.val_folds) == [1, 2, 3, 4, 5, 6, 7]
    assert seen["out"] == os.path.join(str(tmp_path), "ptbxl_superdiagnostic_beat-cv-ens3", "test8")
    assert r["macro_auc"] == 0.9 and r["macro_auc_members"] == [0.9, 0.9, 0.9] and r["val_folds"] == [1, 2, 3]


def test_combination_inside_cv_fold_averages_main_ensemble_with_single_views(tmp_path, monkeypatch):
    """beat+resnet with --ensemble-val-folds: the beat ensemble plus one resnet run on the plain CV split."""
    ensembles, singles, combined = [], [], []

    def fake_ensemble_fold(name, data_root, out_root, extra, test, folds, n, reuse=False):
        ensembles.append((name, test, n))
        return {"name": name, "run_dir": os.path.join(out_root, f"{name}-cv-ens{n}", f"test{test}"),
                "seconds": 2.0, "val_folds": bench.cv_ensemble_val_folds(folds, test, n)}

    def fake_cv_fold(name, data_root, out_root, extra, test, val, train, reuse=False):
        singles.append((name, test, val, train))
        return {"name": name, "run_dir": os.path.join(out_root, f"{name}-cv", f"test{test}"), "seconds": 1.0}

    def fake_combine(name, members, out):
        combined.append(([m["run_dir"] for m in members], out))
        return {"name": name, "run_dir": out, "seconds": 3.0, "auc": 0.97}

    monkeypatch.setattr(bench, "run_cv_ensemble_fold", fake_ensemble_fold)
    monkeypatch.setattr(bench, "run_cv_fold", fake_cv_fold)
    monkeypatch.setattr(bench, "combine", fake_combine)
    name = "ptbxl_mi_vs_norm_beat+resnet"
    r = bench.run_cv_views_fold(name, "data", str(tmp_path), [], test=7, folds=list(range(1, 9)), n=3)
    assert ensembles == [("ptbxl_mi_vs_norm_beat", 7, 3)]
    assert singles == [("ptbxl_mi_vs_norm", 7, 8, [1, 2, 3, 4, 5, 6])]
    (runs, out), = combined
    assert runs == [os.path.join(str(tmp_path), "ptbxl_mi_vs_norm_beat-cv-ens3", "test7"),
                    os.path.join(str(tmp_path), "ptbxl_mi_vs_norm-cv", "test7")]
    assert out == os.path.join(str(tmp_path), f"{name}-cv-ens3", "test7")
    assert r["auc"] == 0.97 and r["val_folds"] == [8, 1, 2]


def test_ledger_table_pairs_folds_and_reports_members(tmp_path, capsys):
    import json

    import cv_ledger_table

    def ledger(name, scores, members=None):
        folds = {f"x-ens3/test{k}": {"auc": s, **({"auc_members": members[k]} if members else {})}
                 for k, s in scores.items()}
        path = tmp_path / name
        path.write_text(json.dumps({"command": "c", "folds": folds}))
        return str(path)

    a = ledger("a.json", {1: 0.90, 2: 0.80, 3: 0.70}, {1: [0.8, 0.9], 2: [0.7, 0.8], 3: [0.6, 0.7]})
    b = ledger("b.json", {2: 0.85, 3: 0.65, 4: 0.99})
    (_, key, values), (_, _, other) = cv_ledger_table.main([a, b])
    out = capsys.readouterr().out
    assert key == "auc" and values == {1: 0.90, 2: 0.80, 3: 0.70} and other[4] == 0.99
    assert "mean ± sd: 0.800 ± 0.100" in out and "member 2: 0.800 ± 0.100" in out
    assert "2 paired folds: 0.000 ± 0.071 (higher on 1 of 2)" in out
    with pytest.raises(SystemExit, match="no 'f1'"):
        cv_ledger_table.main([a, "--score", "f1"])


def test_feature_view_bench_reads_the_validation_fold_and_skips_what_is_done_or_missing(tmp_path, capsys):
    import json

    import bench_feature_view as bench

    ens = tmp_path / "ens" / "test3"
    ens.mkdir(parents=True)
    (ens / "ensemble.json").write_text(json.dumps({"members": [{"run": str(ens / "members" / "val4")},
                                                               {"run": str(ens / "members" / "val5")}]}))
    assert bench.first_val_fold(str(ens)) == 4
    (ens / "ensemble.json").write_text(json.dumps({"members": [{"run": str(ens / "m0")}]}))
    with pytest.raises(ValueError, match="not named valK"):
        bench.first_val_fold(str(ens))
    ledger = tmp_path / "l.json"
    ledger.write_text(json.dumps({"command": "x", "folds": {"ptbxl_mi_vs_norm_ens+features/test1": {"auc": 0.9}}}))
    bench.main(["--data-root", str(tmp_path), "--task", "mi_vs_norm", "--ensembles", str(tmp_path / "ens"),
                "--cv-folds", "1-2", "--ledger", str(ledger)])
    out = capsys.readouterr().out
    assert "fold 2: no finished ensemble" in out and "fold 1" not in out
    assert json.loads(ledger.read_text())["folds"] == {"ptbxl_mi_vs_norm_ens+features/test1": {"auc": 0.9}}


def test_af4_feature_view_bench_skips_what_is_done_or_missing_and_refuses_another_seed(tmp_path, capsys):
    import json

    import bench_af4_feature_view as bench

    from ecgtf.config import TrainConfig, save

    ledger = tmp_path / "l.json"
    done = {f"{bench.NAME}/test0": {"cinc2017_f1": 0.84}}
    ledger.write_text(json.dumps({"command": "x", "folds": done}))
    pattern = str(tmp_path / "net{seed}")
    bench.main(["--data-root", str(tmp_path), "--seeds", "0", "1", "--networks", pattern, "--ledger", str(ledger)])
    out = capsys.readouterr().out
    assert "seed 1: no finished network run" in out and "seed 0" not in out
    assert json.loads(ledger.read_text())["folds"] == done
    net = tmp_path / "net1"
    net.mkdir()
    (net / "test_predictions.csv").write_text("record_id\n")
    save(TrainConfig(dataset="cinc2017", task="af4", seed=5, test_fraction=0.2), str(net / "config.yaml"))
    with pytest.raises(ValueError, match="seed 5, not 1"):
        bench.main(["--data-root", str(tmp_path), "--seeds", "1", "--networks", pattern, "--ledger", str(ledger)])
