"""Ensembles of saved run predictions (ecgtf.evaluation.ensemble, scripts/ensemble.py)."""

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.evaluation.ensemble import mean_probabilities, mean_thresholds, merge_predictions

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import ensemble as ensemble_script  # noqa: E402

CLASSES = ("NORM", "MI")


def _frame(ids, y, prob):
    data = {"record_id": ids}
    data.update({f"true_{c}": y[:, i] for i, c in enumerate(CLASSES)})
    data.update({f"prob_{c}": prob[:, i] for i, c in enumerate(CLASSES)})
    return pd.DataFrame(data)


def _members(n=200, k=3, seed=0):
    """Labels and k members, each the truth plus its own independent noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 2)) < 0.4).astype(int)
    return y, [np.clip(y + rng.normal(0, 0.6, y.shape), 0, 1) for _ in range(k)]


def test_merge_keeps_records_every_table_has_in_first_table_order():
    y, (a, b, c) = _members(6)
    ids = [f"r{i}" for i in range(6)]
    frames = [_frame(ids, y, a), _frame(ids[::-1], y[::-1], b[::-1]), _frame(ids[1:], y[1:], c[1:])]
    y_true, probs, shared = merge_predictions(frames)
    assert list(shared) == ids[1:]
    np.testing.assert_array_equal(y_true, y[1:])
    np.testing.assert_allclose(probs[1], b[1:])           # re-ordered to the first table's order
    with pytest.raises(ValueError, match="disagree"):
        merge_predictions([frames[0], _frame(ids, 1 - y, a)])
    with pytest.raises(ValueError, match="different outputs"):
        merge_predictions([frames[0], frames[0].rename(columns={"true_MI": "true_HYP"})])


def test_mean_of_members_and_thresholds():
    np.testing.assert_allclose(mean_probabilities([np.array([[0.2, 0.8]]), np.array([[0.4, 0.6]])]), [[0.3, 0.7]])
    assert mean_thresholds([[0.2, 0.5], [0.4, 0.7]]) == pytest.approx([0.3, 0.6])
    assert mean_thresholds([[0.2, 0.5], None]) is None


def test_ensemble_script_beats_its_members_on_independent_noise(tmp_path, capsys):
    from sklearn.metrics import roc_auc_score

    y, probs = _members()
    ids = [f"{i:05d}" for i in range(len(y))]
    runs = [tmp_path / f"m{k}" for k in range(len(probs))]
    for run, prob in zip(runs, probs):
        run.mkdir()
        cfglib.save(TrainConfig(dataset="ptbxl", task="mi_vs_norm"), str(run / "config.yaml"))
        frame = pd.DataFrame({"record_id": ids, "true_MI": y[:, 1], "prob_MI": prob[:, 1]})
        frame.to_csv(run / "test_predictions.csv", index=False)
        (run / "thresholds.json").write_text(json.dumps({"classes": ["MI"], "thresholds": [0.5]}))
    out = tmp_path / "ens"
    metrics = ensemble_script.main(["--runs", *map(str, runs), "--out", str(out)])
    member_aucs = [roc_auc_score(y[:, 1], p[:, 1]) for p in probs]
    assert metrics["auc"] == pytest.approx(roc_auc_score(y[:, 1], np.mean([p[:, 1] for p in probs], axis=0)))
    assert metrics["auc"] > max(member_aucs)
    saved = json.loads((out / "ensemble.json").read_text())
    assert [m["auc"] for m in saved["members"]] == pytest.approx(member_aucs)
    assert os.path.isfile(out / "predictions.csv") and os.path.isfile(out / "roc.png")
    assert "ensemble auc" in capsys.readouterr().out


def test_ensemble_script_refuses_mixed_tasks_and_missing_predictions(tmp_path):
    y, probs = _members(20, 2)
    ids = [str(i) for i in range(20)]
    for name, task in (("a", "mi_vs_norm"), ("b", "normal_abnormal")):
        (tmp_path / name).mkdir()
        cfglib.save(TrainConfig(dataset="ptbxl", task=task), str(tmp_path / name / "config.yaml"))
        pd.DataFrame({"record_id": ids, "true_MI": y[:, 1], "prob_MI": probs[0][:, 1]}).to_csv(
            tmp_path / name / "test_predictions.csv", index=False)
    with pytest.raises(SystemExit, match="different tasks"):
        ensemble_script.main(["--runs", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match="missing"):
        ensemble_script.main(["--runs", str(tmp_path / "a"), str(tmp_path / "b"), "--split", "val",
                              "--out", str(tmp_path / "o")])


def test_ensemble_folder_loads_evaluates_and_explains_like_a_run(tmp_path, capsys):
    from data_builders import write_cinc2017

    import evaluate as evaluate_script  # noqa: E402
    import gradcam as gradcam_script  # noqa: E402
    import train as train_script  # noqa: E402
    from ecgtf.errors import run_cli
    from ecgtf.training.saved import load_run

    root = write_cinc2017(tmp_path / "d", {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 17)})
    runs = []
    for width in (6, 8):  # same seed, same split: two members of different widths
        run = tmp_path / f"m{width}"
        train_script.main(["--model", "compact1d", "--option", f"filters=[{width}]", "--option", "stem_filters=8",
                           "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", str(tmp_path / "c"),
                           "--epochs", "1", "--out", str(run), "--verbose", "0"])
        runs.append(str(run))
    ens = tmp_path / "ens"
    ensemble_script.main(["--runs", *runs, "--split", "val", "--out", str(ens)])
    assert "is a run folder too" in capsys.readouterr().out

    loaded, members = load_run(str(ens)), [load_run(r) for r in runs]
    assert loaded.members == runs and loaded.spec.model == "ensemble"
    x = np.random.default_rng(0).normal(0, 0.3, (3, loaded.spec.window_samples + 50, 1)).astype("float32")
    expected = np.mean([m.model.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), expected, atol=1e-6)

    metrics = evaluate_script.main(["--run", str(ens), "--split", "all"])
    assert 0.0 <= metrics["cinc2017_f1"] <= 1.0 and "ci95" in metrics
    # --split none (members of a final predictor share no held-out records): the run folder only
    assert ensemble_script.main(["--runs", *runs, "--split", "none", "--out", str(tmp_path / "final")]) == {}
    final = load_run(str(tmp_path / "final"))
    assert final.members == runs and not (tmp_path / "final" / "metrics.json").exists()
    np.testing.assert_allclose(final.model.predict(x, verbose=0), expected, atol=1e-6)
    assert run_cli(gradcam_script.main, ["--run", str(ens), "--member", "2", "--input", "A00001",
                                         "--out", str(tmp_path / "g.png")]) == 2
    assert "0 to 1, got 2" in capsys.readouterr().err
    gradcam_script.main(["--run", str(ens), "--member", "1", "--input", "A00001", "--out", str(tmp_path / "g.png")])
    assert (tmp_path / "g.png").stat().st_size > 1000
    row = gradcam_script.main(["--run", str(ens), "--input", "A00001", "--out", str(tmp_path / "mean.png")])
    assert (tmp_path / "mean.png").stat().st_size > 1000 and row["record_id"] == "A00001"


def test_ensemble_gradcam_is_the_mean_of_its_members_heatmaps(tmp_path, monkeypatch):
    """Without --member: the ensemble's mean probability decides the class, and the heatmap is the
    members' heatmaps for that class averaged (then scaled to a maximum of 1)."""
    from data_builders import write_cinc2017

    import train as train_script  # noqa: E402
    from ecgtf.explain import gallery
    from ecgtf.explain.gradcam import gradcam

    root = write_cinc2017(tmp_path / "d", {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 13)})
    runs = []
    for seed in (0, 1):
        run = tmp_path / f"m{seed}"
        train_script.main(["--model", "compact1d", "--option", "filters=[6]", "--option", "stem_filters=8",
                           "--dataset", "cinc2017", "--data-dir", root, "--cache-dir", str(tmp_path / "c"),
                           "--epochs", "1", "--seed", str(seed), "--out", str(run), "--verbose", "0"])
        runs.append(str(run))
    ensemble_script.main(["--runs", *runs, "--split", "val", "--out", str(tmp_path / "ens")])
    drawn = {}
    monkeypatch.setitem(gallery.DRAWERS, "signal", lambda explainer, window, x, heat, *a, **k: drawn.update(heat=heat))
    explainer = gallery.load_explainer(str(tmp_path / "ens"))
    assert len(explainer.members) == 2
    row = gallery.explain_one(explainer, "A00002", str(tmp_path / "e.png"), class_name="A")
    _, signal = gallery.load_input(explainer, "A00002")
    heats = [gradcam(m.run.network, gallery.model_input(m, signal)[1], class_index=1)[0] for m in explainer.members]
    expected = np.mean(heats, axis=0)
    np.testing.assert_allclose(drawn["heat"], expected / expected.max(), atol=1e-5)
    assert not np.allclose(heats[0], heats[1], atol=1e-3)  # two different members, so the mean is a mean
    probs = np.mean([m.run.network(gallery.model_input(m, signal)[1]).numpy()[0] for m in explainer.members], axis=0)
    assert row["predicted"] == explainer.class_names[int(probs.argmax())] and row["explained"] == "A"
    assert row["probability"] == pytest.approx(float(probs.max()), abs=1e-6)

    # An ensemble of the ensemble and its first member (a file input this time): weights 1/4, 1/4 + 1/2.
    ensemble_script.main(["--runs", str(tmp_path / "ens"), runs[0], "--split", "none", "--out", str(tmp_path / "n")])
    np.save(tmp_path / "rec.npy", signal)
    nested = gallery.load_explainer(str(tmp_path / "n"))
    gallery.explain_one(nested, str(tmp_path / "rec.npy"), str(tmp_path / "n.png"), class_name="A")
    expected = 0.75 * heats[0] + 0.25 * heats[1]
    np.testing.assert_allclose(drawn["heat"], expected / expected.max(), atol=1e-5)
