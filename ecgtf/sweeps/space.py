"""wandb sweep distributions as Optuna suggestions, with wandb's semantics.

Every distribution wandb's sweep configuration defines is drawn the way wandb draws it:

==========================  ========================================================================
``constant`` (``value``)    the value (not searched)
``categorical`` (``values``) one of the values; with ``probabilities``, drawn with those weights
``int_uniform``             integer in ``[min, max]``
``uniform``                 float in ``[min, max]``
``q_uniform``               ``round(X / q) * q``, X uniform in ``[min, max]`` (``q`` default 1)
``log_uniform``             ``exp(U)``, U uniform in ``[min, max]`` (natural-log bounds)
``log_uniform_values``      X in ``[min, max]`` with ``log X`` uniform
``q_log_uniform``           ``round(X / q) * q``, X ``log_uniform``
``q_log_uniform_values``    ``round(X / q) * q``, X ``log_uniform_values``
``inv_log_uniform``         X with ``log(1/X)`` uniform in ``[min, max]``: X in ``[exp(-max), exp(-min)]``
``inv_log_uniform_values``  X with ``log(1/X)`` uniform in ``[log(1/max), log(1/min)]``: X in ``[min, max]``
``normal``                  normal, mean ``mu`` (0), standard deviation ``sigma`` (1)
``q_normal``                ``round(X / q) * q``, X ``normal``
``log_normal``              X with ``log X`` normal (``mu``, ``sigma``)
``q_log_normal``            ``round(X / q) * q``, X ``log_normal``
``beta``                    beta distribution with shapes ``a`` and ``b`` (1, 1)
``q_beta``                  ``round(X / q) * q``, X ``beta``
==========================  ========================================================================

Uniform and log-uniform draws are Optuna float/int parameters (log scale where wandb's is).
Optuna has no normal, log-normal or beta parameters (nor weighted categories), so those
draw the quantile ``u`` in ``[1e-6, 1 - 1e-6]`` as the Optuna parameter (``<key>:quantile``)
and return the distribution's inverse CDF at ``u``: uniform ``u`` gives exactly the
distribution (bar the outer 1e-6 tails) for random search, and TPE models the quantile.
Quantised values are the rounding of the underlying Optuna parameter; an integer ``q``
gives integers. A parameter without ``distribution`` is inferred as wandb does:
``value`` -> constant, ``values`` -> categorical, integer ``min``/``max`` -> int_uniform,
otherwise uniform.
"""

from __future__ import annotations

import json
import math

import numpy as np

#: distribution -> (required keys, optional keys with their wandb defaults)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {"probabilities": None}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1}),
    "q_log_uniform_values": (("min", "max"), {"q": 1}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1}),
}
QUANTILE_EPS = 1e-6


def distribution_name(spec: dict) -> str:
    """The spec's distribution, inferred as wandb infers it when ``distribution`` is absent."""
    if "distribution" in spec:
        return spec["distribution"]
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical"
    if isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int) \
            and not isinstance(spec.get("min"), bool):
        return "int_uniform"
    return "uniform"


def _options(spec: dict) -> dict:
    name = distribution_name(spec)
    required, optional = DISTRIBUTIONS[name]
    return {**optional, **{k: spec[k] for k in (*required, *optional) if k in spec}}


def check_distribution(key: str, spec: dict) -> None:
    """Raises ``ValueError`` naming ``key`` when ``spec`` is no valid wandb distribution."""
    name = distribution_name(spec)
    if name not in DISTRIBUTIONS:
        raise ValueError(f"parameter {key}: unknown distribution {name!r}; wandb's: {', '.join(DISTRIBUTIONS)}")
    required, optional = DISTRIBUTIONS[name]
    missing = [k for k in required if k not in spec]
    extra = sorted(set(spec) - {"distribution", *required, *optional})
    if missing or extra:
        raise ValueError(f"parameter {key}: {name} takes {', '.join((*required, *optional)) or 'no keys'}"
                         f"{'; missing ' + ', '.join(missing) if missing else ''}"
                         f"{'; unknown ' + ', '.join(extra) if extra else ''}")
    o = _options(spec)
    if name == "categorical":
        if not isinstance(o["values"], list) or not o["values"]:
            raise ValueError(f"parameter {key}: values must be a non-empty list")
        p = o["probabilities"]
        if p is not None and (len(p) != len(o["values"]) or any(v < 0 for v in p) or not math.isclose(sum(p), 1)):
            raise ValueError(f"parameter {key}: probabilities must be one per value, >= 0, summing to 1")
    if "min" in required and not o["min"] < o["max"]:
        raise ValueError(f"parameter {key}: min must be below max, got {o['min']} and {o['max']}")
    if name == "int_uniform" and not all(isinstance(o[k], int) for k in ("min", "max")):
        raise ValueError(f"parameter {key}: int_uniform needs integer min and max")
    if name in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        if o["min"] <= 0:
            raise ValueError(f"parameter {key}: {name} needs min > 0, got {o['min']}")
    for k in ("q", "sigma", "a", "b"):
        if k in o and not o[k] > 0:
            raise ValueError(f"parameter {key}: {k} must be positive, got {o[k]}")


def quantize(x: float, q) -> float | int:
    """wandb's ``round(x / q) * q``; an integer when ``q`` is one."""
    value = round(x / q) * q
    return int(value) if isinstance(q, int) and not isinstance(q, bool) else float(value)


def _inverse_cdf(name: str, o: dict, u: float) -> float:
    from scipy import stats

    base = name[2:] if name.startswith("q_") else name
    if base == "normal":
        return float(stats.norm.ppf(u, loc=o["mu"], scale=o["sigma"]))
    if base == "log_normal":
        return float(math.exp(stats.norm.ppf(u, loc=o["mu"], scale=o["sigma"])))
    return float(stats.beta.ppf(u, o["a"], o["b"]))


def _encoded(values: list) -> tuple[list, bool]:
    """Optuna categories must be None/bool/int/float/str: lists (``[75, 75]``) travel as JSON."""
    plain = all(v is None or isinstance(v, (bool, int, float, str)) for v in values)
    return (list(values), False) if plain else ([json.dumps(v) for v in values], True)


def grid_values(key: str, spec: dict) -> list:
    """The points a ``grid`` sweep visits for one parameter (wandb's grid: discrete ones only)."""
    name, o = distribution_name(spec), _options(spec)
    if name == "constant":
        return [o["value"]]
    if name == "categorical":
        return list(o["values"])
    if name == "int_uniform":
        return list(range(o["min"], o["max"] + 1))
    if name == "q_uniform":
        first, last = math.ceil(o["min"] / o["q"]), math.floor(o["max"] / o["q"])
        return [quantize(i * o["q"], o["q"]) for i in range(first, last + 1)]
    raise ValueError(f"parameter {key}: a grid sweep needs value, values, int_uniform or q_uniform, got {name}")


def grid_space(parameters: dict[str, dict]) -> dict[str, list]:
    """``optuna.samplers.GridSampler``'s search space (constants left out)."""
    space = {}
    for key, spec in parameters.items():
        if distribution_name(spec) != "constant":
            space[key] = _encoded(grid_values(key, spec))[0]
    return space


def suggest(trial, key: str, spec: dict, grid: bool = False):
    """Draws the value of parameter ``key`` for an Optuna ``trial``.

    Args:
        trial: an ``optuna.Trial``.
        key: the parameter name (also the Optuna parameter name, or ``<key>:quantile``).
        spec: its wandb distribution spec.
        grid: the sweep is a grid: every parameter is a category of :func:`grid_values`.
    """
    name, o = distribution_name(spec), _options(spec)
    if name == "constant":
        return o["value"]
    if grid:
        values = grid_values(key, spec)
        codes, is_json = _encoded(values)
        chosen = trial.suggest_categorical(key, codes)
        return json.loads(chosen) if is_json else chosen
    if name == "categorical":
        values = o["values"]
        if o["probabilities"] is not None:
            u = trial.suggest_float(f"{key}:quantile", 0.0, 1.0)
            index = int(np.searchsorted(np.cumsum(o["probabilities"]), u, side="right"))
            return values[min(index, len(values) - 1)]
        codes, is_json = _encoded(values)
        chosen = trial.suggest_categorical(key, codes)
        return json.loads(chosen) if is_json else chosen
    if name == "int_uniform":
        return trial.suggest_int(key, o["min"], o["max"])
    if name in ("uniform", "q_uniform"):
        x = trial.suggest_float(key, float(o["min"]), float(o["max"]))
    elif name in ("log_uniform", "q_log_uniform"):
        x = trial.suggest_float(key, math.exp(o["min"]), math.exp(o["max"]), log=True)
    elif name in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        x = trial.suggest_float(key, float(o["min"]), float(o["max"]), log=True)
    elif name == "inv_log_uniform":
        x = trial.suggest_float(key, math.exp(-o["max"]), math.exp(-o["min"]), log=True)
    else:  # normal, log_normal, beta and their q_ forms
        u = trial.suggest_float(f"{key}:quantile", QUANTILE_EPS, 1 - QUANTILE_EPS)
        x = _inverse_cdf(name, o, u)
    return quantize(x, o["q"]) if name.startswith("q_") else x


def suggest_all(trial, parameters: dict[str, dict], grid: bool = False) -> dict:
    """``{key: value}`` of one trial for every parameter (see :func:`suggest`)."""
    return {key: suggest(trial, key, spec, grid=grid) for key, spec in parameters.items()}
