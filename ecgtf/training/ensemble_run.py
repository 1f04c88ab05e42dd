"""Ensembles as run folders: the members' mean, saved so that ``load_run`` (and with it
``evaluate.py``, ``gradcam.py`` and export) reads it like a single run.

The folder holds ``model.keras`` (every member's model, its preprocessing inside, averaged),
``config.yaml`` and ``run_spec.json`` of the first member (data, split rules, rate, leads,
window; ``model`` reads ``ensemble``), ``thresholds.json`` (the members' mean) and
``ensemble.json`` (the members' folders and scores).
"""

from __future__ import annotations

import dataclasses
import os
import shutil

from ecgtf.atomic import replacing

ENSEMBLE_FILE = "ensemble.json"


def write_ensemble_run(member_dirs: list[str], out_dir: str, thresholds: list | None) -> str:
    """Writes the loadable part of an ensemble folder into ``out_dir``; returns ``out_dir``.

    Raises:
        ValueError: the members take different inputs (names the fields that differ).
    """
    from ecgtf.evaluation.ensemble import average_model, spec_differences
    from ecgtf.inputs.runspec import SPEC_FILE
    from ecgtf.training.report import write_json
    from ecgtf.training.saved import load_run

    runs = [load_run(d) for d in member_dirs]
    differ = spec_differences([r.spec for r in runs])
    if differ:
        raise ValueError("the members take different inputs, so no single model can average them: "
                         + "; ".join(differ))
    os.makedirs(out_dir, exist_ok=True)
    model = average_model([r.model for r in runs])
    with replacing(os.path.join(out_dir, "model.keras")) as tmp:
        model.save(tmp)
    spec = dataclasses.replace(runs[0].spec, model="ensemble",
                               graph_op=all(r.spec.graph_op for r in runs))
    spec.save(os.path.join(out_dir, SPEC_FILE))
    with replacing(os.path.join(out_dir, "config.yaml")) as tmp:
        shutil.copyfile(os.path.join(runs[0].dir, "config.yaml"), tmp)
    write_json({"classes": list(spec.class_names), "thresholds": thresholds}, os.path.join(out_dir, "thresholds.json"))
    return out_dir


def is_ensemble(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(run_dir, ENSEMBLE_FILE))


def member_dirs(run_dir: str) -> list[str]:
    """The members' run folders named by an ensemble folder's ``ensemble.json``."""
    import json

    with open(os.path.join(run_dir, ENSEMBLE_FILE)) as f:
        return [m["run"] for m in json.load(f)["members"]]
