"""Online sweeps: the sweep file handed to wandb's controller with ``wandb.sweep``/``wandb.agent``."""

from __future__ import annotations

import os

from ecgtf.sweeps.spec import SweepSpec
from ecgtf.sweeps.trial import trial_config


def sweep_config(sweep: SweepSpec) -> dict:
    """The object ``wandb.sweep`` receives: the sweep file's mapping as written (it is wandb's format)."""
    return dict(sweep.config)


def run_online(sweep: SweepSpec, count: int, sweep_dir: str, *, train_fn=None, say=print) -> str:
    """Registers the sweep with wandb and runs ``count`` of its trials here; returns the sweep id.

    Each trial trains in ``<sweep_dir>/trials/trial_NNN`` with every wandb file inside it, in the
    run ``wandb.agent`` opened (:func:`ecgtf.tracking.wandb_run.start_run` uses it as it is).

    Args:
        sweep: the checked sweep file.
        count: trials this agent runs (``wandb.agent(..., count=count)``).
        sweep_dir: the folder receiving the trials.
        train_fn: ``train(cfg) -> RunResult`` (default :func:`ecgtf.training.trainer.train`).
        say: progress printer.
    """
    import keras
    import wandb

    from ecgtf.tracking.wandb_run import wandb_dirs

    if train_fn is None:
        from ecgtf.training.trainer import train as train_fn
    trials = os.path.join(sweep_dir, "trials")
    os.makedirs(trials, exist_ok=True)
    os.environ.update(wandb_dirs(sweep_dir))  # the controller's own files stay in the sweep folder too
    sweep_id = wandb.sweep(sweep_config(sweep), project=sweep.project)
    say(f"sweep {sweep.name}: wandb sweep id {sweep_id} in project {sweep.project}")

    def trial():
        run_dir = os.path.join(trials, f"trial_{len(os.listdir(trials)):03d}")
        os.makedirs(run_dir, exist_ok=True)
        os.environ.update(wandb_dirs(run_dir))
        run = wandb.init(dir=run_dir)
        try:
            cfg = trial_config(dict(run.config), run_dir, wandb_mode="online", group=None, project=sweep.project)
            train_fn(cfg)
        finally:
            keras.backend.clear_session()
            wandb.finish()

    wandb.agent(sweep_id, function=trial, count=count)
    return sweep_id
