"""Sweeps: wandb distributions as Optuna suggestions, YAML checks, online config, resume, pruning."""

import json
import math
import os
import sys
import types

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from ecgtf.sweeps.offline import open_study, run_offline
from ecgtf.sweeps.results import write_results
from ecgtf.sweeps.space import DISTRIBUTIONS, distribution_name, grid_values, suggest
from ecgtf.sweeps.spec import load_sweep, parse_sweep

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import sweep as sweep_script  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
REPO = os.path.join(os.path.dirname(__file__), "..")


def _draw(spec, n=400, sampler=None):
    study = optuna.create_study(sampler=sampler or optuna.samplers.RandomSampler(seed=0))
    values = []
    for _ in range(n):
        trial = study.ask()
        values.append(suggest(trial, "p", spec))
        study.tell(trial, 0.0)
    return values


# Each wandb distribution with a check of what wandb's definition implies for its draws.
CASES = {
    "constant": ({"value": 2.5}, lambda v: set(v) == {2.5}),
    "categorical": ({"values": ["relu", "tanh", [75, 75]]},
                    lambda v: {json.dumps(x) for x in v} == {'"relu"', '"tanh"', "[75, 75]"}),
    "int_uniform": ({"min": 2, "max": 5},
                    lambda v: set(v) == {2, 3, 4, 5} and all(isinstance(x, int) for x in v)),
    "uniform": ({"min": -1.0, "max": 3.0},
                lambda v: -1 <= min(v) and max(v) <= 3 and abs(np.mean(v) - 1) < 0.2),
    "q_uniform": ({"min": 0, "max": 256, "q": 32},
                  lambda v: set(v) <= set(range(0, 257, 32)) and all(isinstance(x, int) for x in v)),
    "log_uniform": ({"min": math.log(1e-4), "max": math.log(1e-1)},  # natural-log bounds
                    lambda v: 1e-4 <= min(v) and max(v) <= 1e-1 and abs(np.mean(np.log10(v)) + 2.5) < 0.15),
    "log_uniform_values": ({"min": 1e-4, "max": 1e-1},
                           lambda v: 1e-4 <= min(v) and max(v) <= 1e-1 and abs(np.mean(np.log10(v)) + 2.5) < 0.15),
    "q_log_uniform": ({"min": math.log(1), "max": math.log(1000), "q": 10},
                      lambda v: all(x % 10 == 0 for x in v) and max(v) <= 1000 and np.median(v) < 100),
    "q_log_uniform_values": ({"min": 1, "max": 1000, "q": 10},
                             lambda v: all(x % 10 == 0 for x in v) and max(v) <= 1000 and np.median(v) < 100),
    "inv_log_uniform": ({"min": 1, "max": 5},  # log(1/X) in [1, 5]: X in [e^-5, e^-1]
                        lambda v: math.exp(-5) <= min(v) and max(v) <= math.exp(-1)
                        and abs(np.mean(-np.log(v)) - 3) < 0.2),
    "inv_log_uniform_values": ({"min": 0.01, "max": 1.0},
                               lambda v: 0.01 <= min(v) and max(v) <= 1.0 and abs(np.mean(np.log10(v)) + 1) < 0.1),
    "normal": ({"mu": 5.0, "sigma": 2.0}, lambda v: abs(np.mean(v) - 5) < 0.3 and abs(np.std(v) - 2) < 0.3),
    "q_normal": ({"mu": 50, "sigma": 20, "q": 5},
                 lambda v: all(x % 5 == 0 for x in v) and abs(np.mean(v) - 50) < 4),
    "log_normal": ({"mu": 0.0, "sigma": 0.5},
                   lambda v: min(v) > 0 and abs(np.mean(np.log(v))) < 0.1 and abs(np.std(np.log(v)) - 0.5) < 0.08),
    "q_log_normal": ({"mu": 3.0, "sigma": 0.5, "q": 1},
                     lambda v: all(isinstance(x, int) for x in v) and 12 < np.median(v) < 28),
    "beta": ({"a": 2.0, "b": 6.0}, lambda v: 0 <= min(v) and max(v) <= 1 and abs(np.mean(v) - 0.25) < 0.03),
    "q_beta": ({"a": 2.0, "b": 2.0, "q": 0.1},
               lambda v: all(abs(x * 10 - round(x * 10)) < 1e-9 for x in v) and abs(np.mean(v) - 0.5) < 0.05),
}


def test_every_wandb_distribution_is_covered():
    assert set(CASES) == set(DISTRIBUTIONS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_distribution_draws_follow_wandb(name):
    spec, check = CASES[name]
    values = _draw({"distribution": name, **spec})
    assert check(values), (name, values[:10])


def test_weighted_categories_and_bayes_sampler():
    values = _draw({"values": ["a", "b", "c"], "probabilities": [0.7, 0.2, 0.1]})
    freq = {k: values.count(k) / len(values) for k in "abc"}
    assert abs(freq["a"] - 0.7) < 0.07 and abs(freq["c"] - 0.1) < 0.05
    for name, (spec, _) in CASES.items():  # TPE draws every kind too, inside its bounds
        values = _draw({"distribution": name, **spec}, n=15, sampler=optuna.samplers.TPESampler(seed=0,
                                                                                                 n_startup_trials=5))
        assert len(values) == 15


def test_distribution_inferred_as_wandb_does():
    assert distribution_name({"value": 1}) == "constant"
    assert distribution_name({"values": [1, 2]}) == "categorical"
    assert distribution_name({"min": 1, "max": 4}) == "int_uniform"
    assert distribution_name({"min": 0.1, "max": 4}) == "uniform"
    assert grid_values("k", {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}) == [0.0, 0.25, 0.5,
                                                                                              0.75, 1.0]


@pytest.mark.parametrize("params, match", [
    ({"learning_rate": {"value": 0.1}}, "unknown sweep parameter 'learning_rate'"),
    ({"model": {"value": "compact1d"}, "model_options.nope": {"values": [1, 2]}}, "takes no option 'nope'"),
    ({"out": {"value": "x"}}, "the sweep sets"),
    ({"lr": {"distribution": "log_uniform_values", "min": 0.0, "max": 1.0}}, "needs min > 0"),
    ({"lr": {"distribution": "gamma", "min": 0.1, "max": 1.0}}, "unknown distribution 'gamma'"),
    ({"lr": {"distribution": "uniform", "min": 0.1}}, "missing max"),
])
def test_bad_sweep_files_fail_before_any_trial(params, match):
    with pytest.raises(ValueError, match=match):
        parse_sweep({"method": "random", "metric": {"name": "val_macro_auc"}, "parameters": params})


def test_shipped_sweeps_load_and_cli_names_the_bad_key(tmp_path, capsys):
    names = {os.path.basename(p) for p in os.listdir(os.path.join(REPO, "sweeps"))}
    assert {"inception_spectrogram.yaml", "cinc2017_af4_compact1d.yaml",
            "ptbxl_superdiagnostic_resnet1d18.yaml"} <= names
    for name in names:
        load_sweep(os.path.join(REPO, "sweeps", name))
    inception = load_sweep(os.path.join(REPO, "sweeps", "inception_spectrogram.yaml")).parameters
    assert {"model_options.hidden_units", "model_options.hidden_activation", "optimizer", "lr",
            "batch_size"} <= set(inception)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"method": "grid", "metric": {"name": "val_macro_auc"},
                                   "parameters": {"lr": {"values": [0.1]}, "epochz": {"value": 3}}}))
    from ecgtf.errors import run_cli

    assert run_cli(sweep_script.main, ["--config", str(bad), "--count", "2", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "epochz" in err and not (tmp_path / "s").exists()


def test_online_path_hands_wandb_exactly_the_sweep_file(tmp_path, monkeypatch):
    path = os.path.join(REPO, "sweeps", "cinc2017_af4_compact1d.yaml")
    with open(path) as f:
        expected = yaml.safe_load(f)
    calls, trained = {}, []
    fake = types.ModuleType("wandb")

    def fake_sweep(sweep, project=None, **kwargs):
        calls["sweep"] = (sweep, project, kwargs)
        return "abc123"

    def fake_agent(sweep_id, function=None, count=None, **kwargs):
        calls["agent"] = (sweep_id, count)
        function()  # one trial, as the agent would run it

    fake.sweep, fake.agent = fake_sweep, fake_agent
    fake.init = lambda **kw: types.SimpleNamespace(config={"lr": 0.004, "batch_size": 16, "dataset": "cinc2017",
                                                           "model": "compact1d", "model_options.dropout": 0.2})
    fake.finish = lambda: None
    monkeypatch.setitem(sys.modules, "wandb", fake)
    from ecgtf.sweeps.online import run_online

    spec = load_sweep(path)
    assert run_online(spec, 3, str(tmp_path), train_fn=trained.append) == "abc123"
    assert calls["sweep"] == (expected, "ecgtf", {}) and calls["agent"] == ("abc123", 3)
    cfg = trained[0]
    assert (cfg.lr, cfg.batch_size, cfg.model_options["dropout"], cfg.wandb) == (0.004, 16, 0.2, "online")
    assert cfg.out.startswith(str(tmp_path))


class FakeResult(types.SimpleNamespace):
    pass


def fake_trainer(calls, fail_at=None):
    """A training stand-in: the score is a smooth function of lr and batch_size; it reports
    ``epochs`` epochs of a rising curve to the sweep's callbacks (the pruner's feed)."""

    def train(cfg, callbacks=()):
        calls.append(cfg)
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        final = 1 - abs(math.log10(cfg.lr) + 2.5) / 3 - (cfg.batch_size == 64) * 0.1
        for epoch in range(cfg.epochs):
            for cb in callbacks:
                cb.on_epoch_end(epoch, {"val_macro_auc": final * (epoch + 1) / cfg.epochs})
        os.makedirs(cfg.out, exist_ok=True)
        return FakeResult(run_dir=cfg.out, metrics={"macro_auc": final}, epochs_run=cfg.epochs)

    return train


SWEEP = {"method": "bayes", "metric": {"name": "val_macro_auc", "goal": "maximize"},
         "parameters": {"dataset": {"value": "ptbxl"}, "model": {"value": "compact1d"}, "epochs": {"value": 4},
                        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
                        "batch_size": {"values": [32, 64]}}}


def test_killed_sweep_resumes_without_rerunning_finished_trials(tmp_path):
    spec = parse_sweep(SWEEP, name="resume")
    calls = []
    run_offline(spec, 3, str(tmp_path), train_fn=fake_trainer(calls), wandb_mode="disabled", say=lambda m: None)
    assert len(calls) == 3
    # A kill mid-trial leaves it RUNNING in the journal (the process never reports it).
    study = open_study(spec, str(tmp_path))
    killed = study.ask()
    killed_lr = suggest(killed, "lr", spec.parameters["lr"])
    suggest(killed, "batch_size", spec.parameters["batch_size"])
    with pytest.raises(KeyboardInterrupt):  # and an interrupt in the next run, before its trial ends
        run_offline(spec, 5, str(tmp_path), train_fn=fake_trainer(calls, fail_at=4), wandb_mode="disabled",
                    say=lambda m: None)
    calls.clear()
    study = run_offline(spec, 5, str(tmp_path), train_fn=fake_trainer(calls), wandb_mode="disabled",
                        say=lambda m: None)
    assert len(calls) == 2  # only the missing trials ran
    assert calls[0].lr == killed_lr  # the killed trial's point is tried again
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") == 5 and states.count("FAIL") == 2
    paths = write_results(study, spec.parameters, str(tmp_path), spec.metric)
    table = pd.read_csv(paths["table"])
    assert list(table.columns[:4]) == ["trial", "state", "dataset", "model"]
    assert {"lr", "batch_size", "score", "epochs_run", "seconds", "run_dir", "rss_mb", "peak_rss_mb"} <= set(table)
    assert (table["state"] == "complete").sum() == 5
    for kind in ("parallel", "importance"):
        assert os.path.getsize(paths[kind]) > 10_000


def test_grid_visits_each_point_once_and_hyperband_prunes(tmp_path, monkeypatch):
    import keras

    grid = parse_sweep({**SWEEP, "method": "grid", "parameters": {**SWEEP["parameters"],
                                                                   "lr": {"values": [1e-4, 3e-3, 1e-1]}}})
    calls, cleared = [], []
    monkeypatch.setattr(keras.backend, "clear_session", lambda: cleared.append(1))
    run_offline(grid, 100, str(tmp_path / "grid"), train_fn=fake_trainer(calls), wandb_mode="disabled",
                say=lambda m: None)
    assert len(cleared) == len(calls) == 6  # every trial frees its model
    assert sorted((c.lr, c.batch_size) for c in calls) == sorted((lr, b) for lr in (1e-4, 3e-3, 1e-1)
                                                                for b in (32, 64))
    hb = parse_sweep({**SWEEP, "method": "random", "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
                      "parameters": {**SWEEP["parameters"], "epochs": {"value": 8}}})
    study = run_offline(hb, 8, str(tmp_path / "hb"), train_fn=fake_trainer([]), wandb_mode="disabled",
                        say=lambda m: None)
    states = [t.state.name for t in study.trials]
    assert "PRUNED" in states and "COMPLETE" in states
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert all(t.user_attrs["epochs"] < 8 for t in pruned)


@pytest.mark.slow
def test_real_training_sweep_frees_each_model(tmp_path, monkeypatch):
    from data_builders import write_cinc2017

    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 25)}
    root = write_cinc2017(tmp_path / "d", labels, seconds=4.0)
    cleared = []
    import keras

    original = keras.backend.clear_session
    monkeypatch.setattr(keras.backend, "clear_session", lambda: (cleared.append(1), original())[1])
    spec = parse_sweep({"method": "random", "metric": {"name": "val_cinc2017_f1", "goal": "maximize"},
                        "parameters": {"dataset": {"value": "cinc2017"}, "data_dir": {"value": str(root)},
                                       "cache_dir": {"value": str(tmp_path / "cache")},
                                       "model": {"value": "compact1d"}, "sampling_rate": {"value": 100},
                                       "duration_s": {"value": 2}, "epochs": {"value": 1}, "verbose": {"value": 0},
                                       "model_options.filters": {"value": [8]},
                                       "model_options.stem_filters": {"value": 8},
                                       "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-2}}})
    study = run_offline(spec, 2, str(tmp_path / "sweep"), wandb_mode="disabled", say=lambda m: None, isolate=False)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert len(cleared) == 2
    for t in study.trials:
        assert os.path.isfile(tmp_path / "sweep" / t.user_attrs["run_dir"] / "model.keras")
        assert t.user_attrs["rss_mb"] > 0 and 0 <= t.value <= 1
    # The default: each trial in its own process, reporting to the same study; this process stays small.
    study = run_offline(spec, 4, str(tmp_path / "sweep"), wandb_mode="disabled", say=lambda m: None)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    rss = [t.user_attrs["rss_mb"] for t in study.trials[2:]]
    assert abs(rss[1] - rss[0]) < 20 and all(t.user_attrs["peak_rss_mb"] > 0 for t in study.trials[2:])
    assert all(os.path.isfile(tmp_path / "sweep" / t.user_attrs["run_dir"] / "trial_result.json")
               for t in study.trials[2:])
