"""Offline sweeps: the same sweep file run locally with Optuna, resumable from its storage.

wandb's sweep controller runs on its server; offline, Optuna drives the search:

- ``grid``: ``GridSampler`` over every combination (wandb's grid); ``random``: ``RandomSampler``,
  each parameter drawn from its wandb distribution; ``bayes``: the ``TPESampler``;
- ``early_terminate: {type: hyperband, min_iter, max_iter, eta}``: ``HyperbandPruner``
  (``min_resource=min_iter``, ``max_resource=max_iter`` or estimated from the first trial,
  ``reduction_factor=eta``, default 3; wandb's ``s`` and ``strict`` have no Optuna
  counterpart: Optuna derives the brackets), fed the sweep metric after every epoch.

The study lives in ``<sweep>/optuna.journal`` (Optuna's ``JournalFileBackend``, safe to
append to and to read back after a kill). ``--count N`` asks for N finished trials in all:
rerunning an interrupted sweep runs only the missing ones, and a trial the kill left
``RUNNING`` is marked failed and its parameters are tried again. Each trial trains in
``<sweep>/trials/trial_NNN`` as an offline wandb run in the sweep's group (``wandb sync``
uploads them all), in its own process (:mod:`ecgtf.sweeps.isolated`; memory stays flat, a crash
ends only its trial); trials run in this process (an injected ``train_fn``) free their model
with ``keras.backend.clear_session()``.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import os
import resource
import time
import types
import warnings

import keras

from ecgtf.sweeps.space import grid_space, suggest_all
from ecgtf.sweeps.spec import SweepSpec
from ecgtf.sweeps.trial import score_of, trial_config

JOURNAL = "optuna.journal"


class PruningHook(keras.callbacks.Callback):
    """Reports the sweep metric to an Optuna trial each epoch; raises ``optuna.TrialPruned``
    when the pruner stops it. Place after ``ValidationScores`` (``train(cfg, callbacks=[...])``).

    Args:
        trial: the ``optuna.Trial``.
        metric: an epoch-log key (``val_cinc2017_f1``; wandb's ``epoch/`` prefix is accepted).
    """

    def __init__(self, trial, metric: str):
        super().__init__()
        self.trial, self.metric = trial, metric.removeprefix("epoch/")
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs = epoch + 1
        value = logs.get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return
        self.trial.report(float(value), step=epoch + 1)
        if self.trial.should_prune():
            import optuna

            raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} ({self.metric} {float(value):.4f})")


def rss_mb() -> tuple[float, float]:
    """``(current, peak)`` resident memory of this process in MiB (Linux ``/proc``; peak from getrusage)."""
    current = float("nan")
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_sampler(sweep: SweepSpec, seed: int):
    import optuna

    if sweep.method == "grid":
        return optuna.samplers.GridSampler(grid_space(sweep.parameters), seed=seed)
    if sweep.method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(sweep: SweepSpec):
    import optuna

    early = sweep.early_terminate
    if not early:
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(min_resource=int(early.get("min_iter", 1)),
                                          max_resource=int(early["max_iter"]) if "max_iter" in early else "auto",
                                          reduction_factor=int(early.get("eta", 3)))


def open_study(sweep: SweepSpec, sweep_dir: str, seed: int = 0):
    """The sweep's Optuna study in ``sweep_dir`` (created, or loaded to resume)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    os.makedirs(sweep_dir, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = JournalStorage(JournalFileBackend(os.path.join(sweep_dir, JOURNAL)))
    return optuna.create_study(study_name=sweep.name, storage=storage, load_if_exists=True,
                               sampler=make_sampler(sweep, seed), pruner=make_pruner(sweep),
                               direction="maximize" if sweep.goal == "maximize" else "minimize")


def recover_stale(study, grid: bool) -> int:
    """Marks trials a killed sweep left ``RUNNING`` as failed and queues their parameters again
    (grids revisit unfinished points by themselves). Returns how many there were."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in stale:
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        if not grid and t.params:
            study.enqueue_trial(t.params, skip_if_exists=False)
    return len(stale)


def finished(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def run_offline(sweep: SweepSpec, count: int, sweep_dir: str, *, train_fn=None, wandb_mode: str = "offline",
                seed: int = 0, say=print, isolate: bool | None = None):
    """Runs the sweep until ``count`` trials have finished (completed or pruned) in ``sweep_dir``.

    Args:
        sweep: the checked sweep file.
        count: finished trials wanted in all (earlier runs of the sweep count).
        sweep_dir: the sweep folder (Optuna journal, trials, results).
        train_fn: ``train(cfg, callbacks=[...]) -> RunResult`` run in this process (tests inject a
            fast fake); default: :func:`ecgtf.training.trainer.train`.
        isolate: train each trial in its own process (:mod:`ecgtf.sweeps.isolated`), so memory
            stays flat and a crash ends only its trial (the sweep goes on; three in a row stop
            it); default: when ``train_fn`` is None.
        wandb_mode: each trial's ``--wandb`` (``offline`` or ``disabled``).
        seed: sampler seed.
        say: progress printer.

    Returns:
        the ``optuna.Study``.
    """
    import optuna

    from ecgtf.sweeps.isolated import TrialProcessDied, run_trial_process

    isolate = train_fn is None if isolate is None else isolate
    if train_fn is None and not isolate:
        from ecgtf.training.trainer import train as train_fn
    study = open_study(sweep, sweep_dir, seed)
    grid = sweep.method == "grid"
    if grid:
        count = min(count, math.prod(len(v) for v in grid_space(sweep.parameters).values()))
    stale = recover_stale(study, grid)
    done = len(finished(study))
    say(f"sweep {sweep.name}: {sweep.method}{' + hyperband' if sweep.early_terminate else ''}, "
        f"{done} of {count} trials finished earlier{f', {stale} interrupted trial(s) to redo' if stale else ''}")

    def objective(trial):
        params = suggest_all(trial, sweep.parameters, grid=grid)
        run_dir = os.path.join(sweep_dir, "trials", f"trial_{trial.number:03d}")
        trial.set_user_attr("params", params)
        trial.set_user_attr("run_dir", os.path.relpath(run_dir, sweep_dir))
        cfg = trial_config(params, run_dir, wandb_mode=wandb_mode, group=sweep.name, project=sweep.project)
        hook = PruningHook(trial, sweep.metric)
        say(f"trial {trial.number}: {params}")
        start = time.perf_counter()
        if isolate:
            try:
                out = run_trial_process(cfg, sweep, sweep_dir, trial._trial_id, seed)
            finally:
                trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
                trial.set_user_attr("rss_mb", round(rss_mb()[0], 1))
            trial.set_user_attr("epochs", out["epochs"])
            trial.set_user_attr("peak_rss_mb", out["peak_rss_mb"])  # the trial process's peak
            if out["status"] == "pruned":
                raise optuna.TrialPruned(f"pruned after epoch {out['epochs']}")
            return score_of(types.SimpleNamespace(run_dir=out["run_dir"], metrics=out["metrics"]),
                            sweep.metric, sweep.goal)
        try:
            result = train_fn(cfg, callbacks=[hook])
        except BaseException as err:
            from ecgtf.tracking.wandb_run import abort_current

            abort_current(exit_code=0 if isinstance(err, optuna.TrialPruned) else 1)
            raise
        finally:
            keras.backend.clear_session()
            gc.collect()
            current, peak = rss_mb()
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
            trial.set_user_attr("epochs", hook.epochs)
            trial.set_user_attr("rss_mb", round(current, 1))
            trial.set_user_attr("peak_rss_mb", round(peak, 1))
        trial.set_user_attr("epochs", getattr(result, "epochs_run", hook.epochs))
        return score_of(result, sweep.metric, sweep.goal)

    deaths = 0
    while len(finished(study)) < count:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(objective, n_trials=1, catch=(TrialProcessDied,))
        last = study.trials[-1]
        deaths = deaths + 1 if last.state.name == "FAIL" else 0
        if deaths >= 3:
            raise RuntimeError(f"three trials in a row ended without a result; see {sweep_dir}/trials")
        say(f"trial {last.number}: {last.state.name.lower()}"
            f"{f', {sweep.metric} {last.value:.4f}' if last.value is not None else ''}, "
            f"{last.user_attrs.get('seconds', 0):.0f} s, RSS {last.user_attrs.get('rss_mb', 0):.0f} MiB")
    return study


def sweep_summary(study, parameters: dict | None = None) -> dict:
    """The best trial (number, value, searched parameters, run folder) of a study with finished trials.

    Args:
        study: the sweep's study.
        parameters: the sweep's parameters; constants are left out of ``params`` when given.
    """
    from ecgtf.sweeps.space import distribution_name

    best = study.best_trial
    params = best.user_attrs.get("params", best.params)
    if parameters is not None:
        params = {k: v for k, v in params.items() if distribution_name(parameters.get(k, {})) != "constant"}
    return dataclasses.asdict(BestTrial(best.number, best.value, params, best.user_attrs.get("run_dir")))


@dataclasses.dataclass
class BestTrial:
    """The best finished trial of a sweep."""

    number: int
    value: float
    params: dict
    run_dir: str | None
