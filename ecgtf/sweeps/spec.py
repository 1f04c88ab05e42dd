"""Sweep files: wandb's own sweep YAML, checked against ``train.py``'s config keys.

A sweep file is what ``wandb.sweep`` takes: ``method`` (``grid``, ``random`` or ``bayes``),
``metric`` (``name``, ``goal``), ``parameters`` and optionally ``early_terminate``
(``type: hyperband``), ``name``, ``project``, ``description``, ``run_cap``. Each parameter
name is a :class:`ecgtf.config.TrainConfig` key (``lr``, ``batch_size``...) or a dotted
model option (``model_options.hidden_units``); fixed settings are ``value:`` parameters.
wandb's nested form (``model_options: {parameters: {...}}``) is read as the dotted one.
Everything is checked before any trial starts: an unknown key, a model option the model
does not take or a malformed distribution raises ``ValueError`` naming it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ecgtf.config import FIELDS, TrainConfig, load_yaml

TOP_KEYS = ("program", "entity", "project", "description", "name", "method", "metric", "parameters",
            "early_terminate", "command", "run_cap")
METHODS = ("grid", "random", "bayes")
#: Config keys a sweep cannot set: each trial's folder, resume state and logging are the sweep's.
RESERVED = ("out", "resume", "wandb", "wandb_group")


@dataclasses.dataclass
class SweepSpec:
    """A loaded, checked sweep file.

    Attributes:
        config: the mapping as read (what ``wandb.sweep`` receives).
        method: ``grid``, ``random`` or ``bayes``.
        metric: name of the score optimised, an epoch-log / summary key such as ``val_cinc2017_f1``.
        goal: ``maximize`` or ``minimize`` (wandb's default is ``minimize``).
        parameters: flat ``{config key or model_options.X: distribution spec}``.
        early_terminate: the ``early_terminate`` mapping or None.
        name: the sweep's name (file stem when not given).
        project: wandb project (``ecgtf`` when not given).
    """

    config: dict
    method: str
    metric: str
    goal: str
    parameters: dict[str, dict]
    early_terminate: dict | None
    name: str
    project: str


def flatten_parameters(parameters: dict, prefix: str = "") -> dict[str, dict]:
    """wandb's nested parameters (``{key: {parameters: {...}}}``) as dotted keys."""
    flat = {}
    for key, spec in parameters.items():
        if not isinstance(spec, dict):
            raise ValueError(f"parameter {prefix}{key}: expected a mapping such as {{value: ...}} or "
                             f"{{values: [...]}} or {{distribution: ..., min: ..., max: ...}}, got {spec!r}")
        if "parameters" in spec:
            flat.update(flatten_parameters(spec["parameters"], f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = spec
    return flat


def possible_values(spec: dict) -> list:
    """The values a categorical/constant parameter can take (empty for distributions)."""
    if "values" in spec:
        return list(spec["values"])
    if "value" in spec:
        return [spec["value"]]
    return []


def check_keys(parameters: dict[str, dict]) -> None:
    """Raises ``ValueError`` for a parameter that is no config key or no option of the model(s)."""
    from ecgtf.inputs.specs import builder_option_names, get_spec, option_names
    from ecgtf.models.registry import get_entry

    for key in parameters:
        head = key.split(".", 1)[0]
        if head in RESERVED:
            raise ValueError(f"sweep parameter {key!r}: the sweep sets {', '.join(RESERVED)} itself")
        if head not in FIELDS or (head == "model_options") != ("." in key):
            raise ValueError(f"unknown sweep parameter {key!r}: parameters are train.py config keys "
                             f"({', '.join(k for k in sorted(FIELDS) if k not in RESERVED)}) or model_options.NAME")
    models = possible_values(parameters["model"]) if "model" in parameters else [TrainConfig.model]
    for model in models:
        entry = get_entry(model)  # unknown names raise, listing the valid ones
        accepted = set(option_names(get_spec(entry.input_kind).kind)) | set(builder_option_names(entry.builder) or ())
        for key in parameters:
            if key.startswith("model_options.") and key.split(".", 1)[1] not in accepted:
                raise ValueError(f"sweep parameter {key!r}: model {model} takes no option "
                                 f"{key.split('.', 1)[1]!r}; accepted: {', '.join(sorted(accepted))}")


def parse_sweep(config: dict, name: str = "sweep") -> SweepSpec:
    """Checks a sweep mapping (as ``wandb.sweep`` takes it) and returns its :class:`SweepSpec`."""
    from ecgtf.sweeps.space import check_distribution

    unknown = sorted(set(config) - set(TOP_KEYS))
    if unknown:
        raise ValueError(f"unknown sweep key(s) {', '.join(unknown)}; wandb sweep keys: {', '.join(TOP_KEYS)}")
    method = config.get("method")
    if method not in METHODS:
        raise ValueError(f"sweep method must be one of {', '.join(METHODS)}, got {method!r}")
    metric = config.get("metric") or {}
    if not isinstance(metric, dict) or not metric.get("name"):
        raise ValueError("sweep metric needs a name, e.g. metric: {name: val_cinc2017_f1, goal: maximize}")
    goal = metric.get("goal", "minimize")
    if goal not in ("maximize", "minimize"):
        raise ValueError(f"metric goal must be maximize or minimize, got {goal!r}")
    if not isinstance(config.get("parameters"), dict) or not config["parameters"]:
        raise ValueError("a sweep needs parameters")
    parameters = flatten_parameters(config["parameters"])
    for key, spec in parameters.items():
        check_distribution(key, spec)
    check_keys(parameters)
    early = config.get("early_terminate")
    if early is not None and (not isinstance(early, dict) or early.get("type") != "hyperband"):
        raise ValueError(f"early_terminate must be {{type: hyperband, ...}} (wandb's only kind), got {early!r}")
    if method == "grid":
        from ecgtf.sweeps.space import grid_values

        for key, spec in parameters.items():
            grid_values(key, spec)  # raises for a continuous distribution
    return SweepSpec(dict(config), method, str(metric["name"]), goal, parameters, early,
                     str(config.get("name") or name), str(config.get("project") or "ecgtf"))


def load_sweep(path: str) -> SweepSpec:
    """Reads and checks a sweep YAML file (see :func:`parse_sweep`)."""
    import os

    data: dict[str, Any] = load_yaml(path)
    try:
        return parse_sweep(data, name=os.path.splitext(os.path.basename(path))[0])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
