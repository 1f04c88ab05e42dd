"""One sweep trial in its own process: memory and crashes stay with the trial.

Consecutive trainings in one process keep each run's decoded records reachable (through the
input pipeline's ``tf.numpy_function`` graphs, even after ``keras.backend.clear_session()``),
about one record store per trial; a TensorFlow crash would also end the whole sweep. So each
offline trial trains in a fresh ``spawn`` child: it reopens the sweep's Optuna study from its
journal, reports every epoch's metric to the same trial (the pruner decides there) and writes
``trial_result.json`` into the trial's run folder, which the sweep reads back.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os

RESULT = "trial_result.json"


class TrialProcessDied(RuntimeError):
    """The trial's process ended without a result (killed, out of memory, a native crash)."""


def _child(cfg_dict: dict, config: dict, name: str, sweep_dir: str, trial_id: int, seed: int) -> None:
    from ecgtf.quiet import quiet_tensorflow

    quiet_tensorflow()  # a fresh process imports TensorFlow again: its start-up lines go here too
    import optuna

    from ecgtf.atomic import replacing
    from ecgtf.config import TrainConfig
    from ecgtf.sweeps.offline import PruningHook, open_study, rss_mb
    from ecgtf.sweeps.spec import parse_sweep
    from ecgtf.tracking.wandb_run import abort_current
    from ecgtf.training.trainer import train

    sweep = parse_sweep(config, name=name)
    trial = optuna.trial.Trial(open_study(sweep, sweep_dir, seed), trial_id)
    hook = PruningHook(trial, sweep.metric)
    cfg = TrainConfig(**cfg_dict)
    try:
        result = train(cfg, callbacks=[hook])
        out = {"status": "complete", "run_dir": result.run_dir, "epochs": result.epochs_run,
               "metrics": {k: v for k, v in result.metrics.items() if isinstance(v, (int, float))}}
    except optuna.TrialPruned:
        abort_current(exit_code=0)
        out = {"status": "pruned", "epochs": hook.epochs}
    out["peak_rss_mb"] = round(rss_mb()[1], 1)
    with replacing(os.path.join(cfg.out, RESULT)) as tmp, open(tmp, "w") as f:
        json.dump(out, f)


def run_trial_process(cfg, sweep, sweep_dir: str, trial_id: int, seed: int) -> dict:
    """Trains ``cfg`` in a child process for the study trial ``trial_id``; returns its result.

    Returns:
        ``{"status": "complete" | "pruned", "epochs", "peak_rss_mb", "run_dir", "metrics"}``.

    Raises:
        TrialProcessDied: the child ended without writing its result.
    """
    path = os.path.join(cfg.out, RESULT)
    if os.path.exists(path):
        os.remove(path)
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=_child, args=(dataclasses.asdict(cfg), sweep.config, sweep.name, sweep_dir,
                                               trial_id, seed))
    process.start()
    process.join()
    if not os.path.isfile(path):
        raise TrialProcessDied(f"trial process ended with exit code {process.exitcode} and no result "
                               f"(see {cfg.out})")
    with open(path) as f:
        return json.load(f)
