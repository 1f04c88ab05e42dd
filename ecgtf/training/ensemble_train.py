"""A final predictor: several members trained on all the data, written as one ensemble folder.

PTB-XL members differ in their validation fold (member ``v`` trains on the pooled training and
validation folds minus ``v`` and selects its epoch on ``v``); the other datasets' members differ
in their seed, which draws another stratified validation share and another initialisation.
Each member is an ordinary run folder under ``OUT/members/``; a member that finished is kept and
one that was interrupted goes on with ``--resume``, so the command can be run again after a kill.
The ensemble folder (``OUT``) is what :func:`ecgtf.training.ensemble_run.write_ensemble_run`
writes, read by ``load_run``, ``evaluate.py``, ``gradcam.py`` and ``export.py`` like one run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Callable

from ecgtf.config import TrainConfig

FINISHED = "metrics.json"  # written last by a finished training


@dataclasses.dataclass(frozen=True)
class Member:
    name: str          # folder name under OUT/members
    cfg: TrainConfig


def plan_members(cfg: TrainConfig, out: str, val_folds: list[int] | None = None,
                 seeds: list[int] | None = None, min_members: int = 2) -> list[Member]:
    """The members' configurations, from ``cfg`` (the shared recipe); ``min_members`` is 1 when the
    features view joins them (one network and the trees are already two views).

    Raises:
        ValueError: neither or both of ``val_folds`` and ``seeds``; validation folds for a dataset
            without folds, or folds outside the recipe's training and validation folds.
    """
    if (val_folds is None) == (seeds is None):
        raise ValueError("give either --val-folds (PTB-XL: one member per validation fold) or --seeds "
                         "(one member per seed and validation share)")
    root = os.path.join(out, "members")
    if seeds is not None:
        if len(set(seeds)) != len(seeds) or len(seeds) < min_members:
            raise ValueError(f"--seeds needs {_how_many(min_members)} different seeds, got {seeds}")
        return [Member(f"seed{s}", dataclasses.replace(cfg, seed=s, out=os.path.join(root, f"seed{s}")))
                for s in seeds]
    if cfg.dataset != "ptbxl":
        raise ValueError(f"--val-folds splits PTB-XL by its folds; {cfg.dataset} has none: use --seeds")
    pool = sorted(set(cfg.train_folds or []) | set(cfg.val_folds or []))
    if len(set(val_folds)) != len(val_folds) or len(val_folds) < min_members or not set(val_folds) <= set(pool):
        raise ValueError(f"--val-folds needs {_how_many(min_members)} different folds of the recipe's --train-folds/--val-folds "
                         f"{pool}, got {val_folds}")
    return [Member(f"val{v}", dataclasses.replace(cfg, train_folds=[f for f in pool if f != v], val_folds=[v],
                                                  out=os.path.join(root, f"val{v}")))
            for v in val_folds]


def finished(folder: str, cfg, model_file: str = "model.keras") -> bool:
    """True when ``folder`` holds its model and every report a run of ``cfg``'s split writes."""
    reports = [FINISHED] + (["test_metrics.json"] if cfg.test_folds or cfg.test_fraction else [])
    return all(os.path.isfile(os.path.join(folder, name)) for name in reports + [model_file])


def member_state(cfg: TrainConfig) -> str:
    """``"done"`` (its reports are written), ``"started"`` (a config was written: resume it) or ``"new"``."""
    if finished(cfg.out, cfg):
        return "done"
    return "started" if os.path.isfile(os.path.join(cfg.out, "config.yaml")) else "new"


def train_ensemble(cfg: TrainConfig, out: str, val_folds: list[int] | None = None, seeds: list[int] | None = None,
                   train_fn: Callable | None = None, say: Callable[[str], None] = print,
                   features: bool = False) -> dict:
    """Trains (or finishes) every member and writes the ensemble folder ``out``.

    With ``features``, the networks' ensemble goes to ``out/networks``, the features view
    (:mod:`ecgtf.training.features_run`, on the first member's split) to ``out/features``, and ``out``
    averages the two at equal weight (read by ``predict.py``; see :func:`_with_features`).

    Returns ``ensemble.json``'s content: the members with their validation main score and, when
    the recipe holds out test folds (the same records for every member), the ensemble's test
    metrics (also written to ``out/test_metrics.json`` with its plots and predictions).
    """
    members = plan_members(cfg, out, val_folds, seeds, min_members=1 if features else 2)
    plan = {"val_folds": val_folds} if val_folds is not None else {"seeds": seeds}
    if features:
        networks = _train_networks(cfg, os.path.join(out, "networks"), members, plan, train_fn, say)
        return _with_features(cfg, out, networks, members[0].cfg, say)
    return _train_networks(cfg, out, members, plan, train_fn, say)


def _how_many(n: int) -> str:
    return "one or more" if n == 1 else "two or more"


def _train_networks(cfg, out, members: list[Member], plan: dict, train_fn, say) -> dict:
    """Trains (or keeps) the networks' members; their ensemble folder is written to ``out``."""
    from ecgtf.evaluation.ensemble import mean_thresholds
    from ecgtf.training.ensemble_run import ENSEMBLE_FILE, write_ensemble_run
    from ecgtf.training.report import write_json
    from ecgtf.training.saved import read_predictions, read_thresholds

    if train_fn is None:
        from ecgtf.training.trainer import train as train_fn
    for i, m in enumerate(members, 1):
        state = member_state(m.cfg)
        if state == "done":
            say(f"member {i}/{len(members)} {m.name}: finished earlier, kept ({m.cfg.out})")
            continue
        say(f"member {i}/{len(members)} {m.name}: {'resuming' if state == 'started' else 'training'} "
            f"into {m.cfg.out}")
        train_fn(dataclasses.replace(m.cfg, resume=state == "started"))
    dirs = [os.path.abspath(m.cfg.out) for m in members]
    thresholds = mean_thresholds([read_thresholds(d).get("thresholds") for d in dirs])
    write_ensemble_run(dirs, out, thresholds)
    task = read_predictions(dirs[0], "val")[1]  # write_ensemble_run checked that the members share it
    summary = {"plan": plan,
               "members": [{"run": d, f"val_{task.main_score}": _validation_score(d, task)} for d in dirs]}
    if cfg.test_folds:  # every member scored the same test records
        summary.update(_score_test(task, dirs, out, thresholds))
    write_json(summary, os.path.join(out, ENSEMBLE_FILE))
    return summary


def _with_features(cfg: TrainConfig, out: str, networks: dict, first: TrainConfig, say) -> dict:
    """Trains the features view into ``out/features`` (kept when finished) on the split of the
    first network member, then writes ``out`` as the two views' equal-weight mean."""
    from ecgtf.evaluation.ensemble import mean_thresholds
    from ecgtf.features.gbm import MODEL_FILE, is_current
    from ecgtf.training.ensemble_run import ENSEMBLE_FILE
    from ecgtf.training.features_run import FeaturesConfig, train_features_run
    from ecgtf.training.report import write_json
    from ecgtf.training.saved import read_predictions, read_thresholds

    feat_dir = os.path.abspath(os.path.join(out, "features"))
    fcfg = FeaturesConfig(dataset=cfg.dataset, data_dir=cfg.data_dir, task=cfg.task, sampling_rate=cfg.sampling_rate,
                          train_folds=first.train_folds, val_folds=first.val_folds, test_folds=first.test_folds,
                          val_fraction=first.val_fraction, test_fraction=first.test_fraction, seed=first.seed,
                          scoring_dir=cfg.scoring_dir, cache_dir=cfg.cache_dir, synthetic_n=cfg.synthetic_n,
                          out=feat_dir)
    if finished(feat_dir, first, MODEL_FILE) and is_current(feat_dir):
        say(f"features view: finished earlier, kept ({feat_dir})")
    else:  # new, interrupted, or trees of an ecgtf that measured other features
        say(f"features view: training into {feat_dir}")
        train_features_run(fcfg, say=say)
    dirs = [os.path.abspath(os.path.join(out, "networks")), feat_dir]
    thresholds = mean_thresholds([read_thresholds(d).get("thresholds") for d in dirs])
    task = read_predictions(feat_dir, "val")[1]
    write_json({"classes": list(task.output_names), "thresholds": thresholds}, os.path.join(out, "thresholds.json"))
    summary = {"views": ["networks", "features"], "members": [{"run": d} for d in dirs], "networks": networks}
    if first.test_folds or first.test_fraction:
        summary.update(_score_test(task, dirs, out, thresholds))
    write_json(summary, os.path.join(out, ENSEMBLE_FILE))
    return summary


def _score_test(task, dirs: list[str], out: str, thresholds) -> dict:
    """The members' mean on the test records they all scored, written to ``out/test_metrics.json``
    (with its plots and predictions); returns the summary's test entries."""
    from ecgtf.evaluation.ensemble import mean_probabilities, merge_predictions
    from ecgtf.evaluation.scores import compute_metrics, main_score
    from ecgtf.training.report import write_report
    from ecgtf.training.saved import read_predictions

    y_true, probs, ids = merge_predictions([read_predictions(d, "test")[0] for d in dirs])
    test = write_report(task, y_true, mean_probabilities(probs), out, thresholds=thresholds,
                        metrics_name="test_metrics.json", prefix="test_", record_ids=ids)
    return {"split": "test", f"test_{task.main_score}": main_score(task, test),
            "test_members": [main_score(task, compute_metrics(task, y_true, p)) for p in probs]}


def _validation_score(run_dir: str, task) -> float | None:
    from ecgtf.evaluation.scores import main_score

    with open(os.path.join(run_dir, FINISHED)) as f:
        return main_score(task, json.load(f))
