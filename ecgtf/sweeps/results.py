"""A sweep's table and plots: ``sweep_results.csv``, parallel coordinates, parameter importances."""

from __future__ import annotations

import json
import os
import warnings

import pandas as pd

from ecgtf.atomic import replacing

RESULTS = "sweep_results.csv"
PARALLEL = "parallel_coordinates.png"
IMPORTANCE = "param_importances.png"


def results_table(study, parameters: dict) -> pd.DataFrame:
    """One row per trial: number, state, each parameter's value, score, epochs run, seconds,
    run folder and memory (``rss_mb``: the sweep process after the trial; ``peak_rss_mb``: the
    trial process's peak, or this process's peak so far for trials run in it).

    Args:
        study: the sweep's Optuna study.
        parameters: the sweep's parameters (column order).
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        params = t.user_attrs.get("params", t.params)
        row = {"trial": t.number, "state": t.state.name.lower()}
        for key in parameters:
            value = params.get(key)
            row[key] = json.dumps(value) if isinstance(value, (list, dict)) else value
        row.update(score=t.value, epochs_run=t.user_attrs.get("epochs"), seconds=t.user_attrs.get("seconds"),
                   run_dir=t.user_attrs.get("run_dir"), rss_mb=t.user_attrs.get("rss_mb"),
                   peak_rss_mb=t.user_attrs.get("peak_rss_mb"))
        rows.append(row)
    return pd.DataFrame(rows)


def _save(ax_or_fig, path: str) -> None:
    import matplotlib.pyplot as plt

    fig = ax_or_fig if hasattr(ax_or_fig, "savefig") else ax_or_fig.figure
    fig.set_size_inches(9, 5)
    fig.tight_layout()
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)


def _note(path: str, text: str) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    _save(fig, path)


def write_results(study, parameters: dict, sweep_dir: str, metric: str) -> dict[str, str]:
    """Writes the table and both plots into ``sweep_dir``; returns ``{kind: path}``.

    The plots are Optuna's matplotlib ones over the finished trials. Searched parameters only
    (constants are not drawn); a plot that needs more trials than have finished says so instead.
    """
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as oplt

    paths = {"table": os.path.join(sweep_dir, RESULTS), "parallel": os.path.join(sweep_dir, PARALLEL),
             "importance": os.path.join(sweep_dir, IMPORTANCE)}
    table = results_table(study, parameters)
    with replacing(paths["table"]) as tmp:
        table.to_csv(tmp, index=False)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    searched = sorted({k for t in complete for k in t.params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for kind, draw in (("parallel", oplt.plot_parallel_coordinate), ("importance", oplt.plot_param_importances)):
            try:
                if len(complete) < 2 or not searched:
                    raise ValueError(f"{len(complete)} completed trial(s) over {len(searched)} searched parameter(s)")
                _save(draw(study, params=searched, target_name=metric), paths[kind])
            except (ValueError, RuntimeError, ZeroDivisionError) as err:
                _note(paths[kind], f"{kind} plot needs at least two completed trials that differ: {err}")
    return paths
