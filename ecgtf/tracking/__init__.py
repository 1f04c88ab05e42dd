"""Experiment tracking: the one wandb run of a training run (:mod:`ecgtf.tracking.wandb_run`)."""

from ecgtf.tracking.wandb_run import RUN_ID_FILE, TrackedRun, abort_current, effective_mode, start_run, wandb_dirs

__all__ = ["RUN_ID_FILE", "TrackedRun", "abort_current", "effective_mode", "start_run", "wandb_dirs"]
