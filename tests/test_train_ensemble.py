"""scripts/train_ensemble.py: members planned from one recipe, resumed after a stop, one loadable folder."""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

from ecgtf.config import TrainConfig  # noqa: E402
from ecgtf.training.ensemble_train import plan_members  # noqa: E402


def test_members_differ_in_validation_fold_or_seed(tmp_path):
    cfg = TrainConfig(model="compact1d", dataset="ptbxl", train_folds=[1, 2, 3, 4, 5, 6, 7, 8], test_folds=None)
    members = plan_members(cfg, str(tmp_path), val_folds=[8, 7, 6])
    assert [m.name for m in members] == ["val8", "val7", "val6"]
    for m, v in zip(members, (8, 7, 6)):
        assert m.cfg.val_folds == [v] and m.cfg.train_folds == [f for f in range(1, 9) if f != v]
        assert m.cfg.out == os.path.join(str(tmp_path), "members", f"val{v}")
    seeds = plan_members(TrainConfig(dataset="cinc2017"), str(tmp_path), seeds=[0, 1])
    assert [(m.name, m.cfg.seed) for m in seeds] == [("seed0", 0), ("seed1", 1)]


@pytest.mark.parametrize("kwargs, needle", [
    ({}, "either"), ({"val_folds": [1, 2], "seeds": [0, 1]}, "either"),
    ({"val_folds": [9, 1]}, "folds of the recipe"), ({"val_folds": [2]}, "two or more"),
    ({"seeds": [3, 3]}, "two or more different seeds"),
])
def test_bad_member_plans_are_refused(tmp_path, kwargs, needle):
    cfg = TrainConfig(dataset="ptbxl", train_folds=[1, 2, 3])
    with pytest.raises(ValueError, match=needle):
        plan_members(cfg, str(tmp_path), **kwargs)
    with pytest.raises(ValueError, match="use --seeds"):
        plan_members(TrainConfig(dataset="cinc2017"), str(tmp_path), val_folds=[1, 2])


def test_final_predictor_resumes_and_reads_like_a_run(tmp_path, capsys):
    import train_ensemble as script
    from data_builders import write_ptbxl

    from ecgtf.errors import run_cli
    from ecgtf.training import trainer
    from ecgtf.training.cli import config_from_args
    from ecgtf.training.ensemble_train import train_ensemble
    from ecgtf.training.saved import load_run

    codes = [{"NORM": 100.0}, {"IMI": 100.0}]
    root = write_ptbxl(tmp_path / "d", [{"scp_codes": codes[(i // 4) % 2], "fold": 1 + i % 4, "leads": 12}
                                        for i in range(32)], seconds=2.5)
    out = str(tmp_path / "ens")
    recipe = ["--model", "compact1d", "--option", "filters=[8]", "--option", "stem_filters=8", "--dataset", "ptbxl",
              "--data-dir", root, "--task", "mi_vs_norm", "--cache-dir", str(tmp_path / "c"), "--train-folds", "1-3",
              "--test-folds", "4", "--epochs", "1", "--verbose", "0"]
    argv = ["--out", out, "--ensemble-val-folds", "3", "2", *recipe]

    calls = []

    def stop_after_first(cfg):  # the session stops while the second member trains
        calls.append(cfg.out)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return trainer.train(cfg)

    with pytest.raises(KeyboardInterrupt):
        train_ensemble(config_from_args(recipe)[0], out, val_folds=[3, 2], train_fn=stop_after_first)
    first = os.path.join(out, "members", "val3")
    stamp = os.path.getmtime(os.path.join(first, "model.keras"))

    summary = script.main(argv)  # the same command again: member val3 kept, val2 trained
    assert "finished earlier, kept" in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(first, "model.keras")) == stamp
    assert [m["run"] for m in summary["members"]] == [os.path.abspath(first),
                                                      os.path.abspath(os.path.join(out, "members", "val2"))]
    assert 0.0 <= summary["test_auc"] <= 1.0 and len(summary["test_members"]) == 2
    with open(os.path.join(out, "ensemble.json")) as f:
        assert json.load(f)["plan"] == {"val_folds": [3, 2]}
    assert os.path.isfile(os.path.join(out, "test_metrics.json"))

    run = load_run(out)
    assert run.members == [m["run"] for m in summary["members"]] and run.spec.model == "ensemble"
    members = [load_run(d) for d in run.members]
    x = np.random.default_rng(0).normal(0, 0.3, (2, run.spec.window_samples, 12)).astype("float32")
    np.testing.assert_allclose(run.model.predict(x, verbose=0),
                               np.mean([m.model.predict(x, verbose=0) for m in members], axis=0), atol=1e-6)
    with pytest.raises(SystemExit, match="2"):  # argparse's usage error
        script.main([*argv, "--resume"])
    assert "--resume is automatic" in capsys.readouterr().err
    assert run_cli(script.main, ["--out", out, "--ensemble-seeds", "0", *recipe]) == 2  # one seed: one line
    assert "two or more different seeds" in capsys.readouterr().err



def test_final_predictor_with_the_features_view_averages_networks_and_trees(tmp_path, capsys):
    import predict as predict_script
    import train_ensemble as script
    from data_builders import write_ptbxl

    from ecgtf.data.synthetic import synthesize_ecg
    from ecgtf.serving.predictor import FeaturesPredictor, RunPredictor, load_predictor

    records = [{"scp_codes": {["NORM", "IMI"][(i // 4) % 2]: 100.0}, "fold": 1 + i % 4,
                "signal": synthesize_ecg([{"normal"}, {"mi_inferior"}][(i // 4) % 2], 100, 4, rng=i)}
               for i in range(40)]
    root = write_ptbxl(tmp_path / "d", records, seconds=4)
    out = str(tmp_path / "final")
    argv = ["--out", out, "--ensemble-val-folds", "3", "2", "--with-features", "--model", "compact1d",
            "--option", "filters=[8]", "--option", "stem_filters=8", "--dataset", "ptbxl", "--data-dir", root,
            "--task", "mi_vs_norm", "--cache-dir", str(tmp_path / "c"), "--train-folds", "1-3", "--test-folds", "4",
            "--epochs", "1", "--verbose", "0"]
    summary = script.main(argv)
    assert summary["views"] == ["networks", "features"] and len(summary["test_members"]) == 2
    assert os.path.isfile(os.path.join(out, "networks", "model.keras"))
    assert os.path.isfile(os.path.join(out, "members", "val3", "model.keras"))
    features = json.load(open(os.path.join(out, "features", "features_config.json")))
    assert features["train_folds"] == [1, 2] and features["val_folds"] == [3] and features["test_folds"] == [4]

    mean = load_predictor(out)
    parts = [RunPredictor(os.path.join(out, "networks")), FeaturesPredictor(os.path.join(out, "features"))]
    x = synthesize_ecg({"mi_inferior"}, 100, 4, rng=99)
    from ecgtf.data.transforms import decode_signal

    expected = np.mean([p.probabilities([decode_signal(x, 100, 100, p.info.signal_filter)]) for p in parts], axis=0)
    np.testing.assert_allclose(mean.probabilities([x]), expected, rtol=1e-5)
    rows = predict_script.main(["--model", out, "--input", os.path.join(root, "records100")])
    assert len(rows) == 40

    capsys.readouterr()
    again = script.main(argv)  # the same command again: networks and trees kept, nothing retrained
    said = capsys.readouterr().out
    assert said.count("finished earlier, kept") == 3 and "features view: finished earlier, kept" in said
    assert again["test_members"] == summary["test_members"]

    info_path = os.path.join(out, "features", "features_model.json")  # trees of an ecgtf that measured other features
    info = json.load(open(info_path))
    json.dump({**info, "feature_names": info["feature_names"][:-1]}, open(info_path, "w"))
    script.main(argv)
    said = capsys.readouterr().out
    assert said.count("finished earlier, kept") == 2 and "features view: training into" in said
    assert json.load(open(info_path))["feature_names"] == info["feature_names"]


def test_one_seed_and_the_features_view_make_the_cinc2017_final_predictor(tmp_path, capsys):
    """One network and the trees are two views: a single seed is refused alone, taken with --with-features."""
    import train_ensemble as script
    from data_builders import write_cinc2017

    from ecgtf.errors import run_cli

    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 49)}
    root = write_cinc2017(tmp_path / "d", labels, seconds=6.0)
    out = str(tmp_path / "final")
    recipe = ["--model", "compact1d", "--option", "filters=[8]", "--option", "stem_filters=8", "--dataset", "cinc2017",
              "--data-dir", root, "--task", "af4", "--sampling-rate", "100", "--duration-s", "4",
              "--cache-dir", str(tmp_path / "c"), "--val-fraction", "0.25", "--epochs", "1", "--verbose", "0"]
    assert run_cli(script.main, ["--out", out, "--ensemble-seeds", "3", *recipe]) == 2
    assert "two or more different seeds" in capsys.readouterr().err
    summary = script.main(["--out", out, "--ensemble-seeds", "3", "--with-features", *recipe])
    assert summary["views"] == ["networks", "features"]
    assert summary["networks"]["plan"] == {"seeds": [3]} and len(summary["networks"]["members"]) == 1
    features = json.load(open(os.path.join(out, "features", "features_config.json")))
    assert features["seed"] == 3 and features["val_fraction"] == 0.25 and features["test_fraction"] == 0.0
    assert os.path.isfile(os.path.join(out, "thresholds.json"))
