"""Per-epoch logging to Weights & Biases; wandb is imported only when it is used."""

from __future__ import annotations

import math
import os
import warnings

import keras


def active_wandb():
    """The ``wandb`` module when logging is possible, else None.

    None when ``WANDB_MODE=disabled``, when wandb is not installed or when no run is
    active (``wandb.run is None``).
    """
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        return None
    try:
        import wandb
    except ImportError:
        return None
    return wandb if wandb.run is not None else None


class WandbLogger(keras.callbacks.Callback):
    """Logs the epoch's scalar ``logs`` (losses, ``val_*`` scores) to wandb.

    Place it after :class:`ecgtf.callbacks.ValidationScores` so the validation scores
    are included. Does nothing when ``WANDB_MODE=disabled`` or wandb is missing.

    Args:
        project: wandb project. When it (or ``init_kwargs``) is given and no run is
            active at the start of training, ``wandb.init(project=..., config=...,
            **init_kwargs)`` starts one, finished at the end of training. Otherwise an
            already active run is used, or nothing is logged.
        config: run configuration (e.g. the resolved training config as a dict).
        prefix: prepended to every key (e.g. ``"train/"``).
        **init_kwargs: more ``wandb.init`` arguments (``name``, ``dir``, ``tags``...).
    """

    def __init__(self, project: str | None = None, config: dict | None = None, prefix: str = "", **init_kwargs):
        super().__init__()
        self.init_kwargs = None
        if project is not None or init_kwargs:
            self.init_kwargs = {"project": project, "config": config, **init_kwargs}
        self.prefix = prefix
        self._owns_run = False

    def on_train_begin(self, logs=None):
        logs = logs or {}
        if self.init_kwargs is None or os.environ.get("WANDB_MODE", "").lower() == "disabled":
            return
        try:
            import wandb
        except ImportError:
            warnings.warn("wandb is not installed: WandbLogger logs nothing", stacklevel=2)
            return
        if wandb.run is None:
            wandb.init(**self.init_kwargs)
            self._owns_run = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        wandb = active_wandb()
        if wandb is None:
            return
        row = {f"{self.prefix}{k}": float(v) for k, v in logs.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))}
        row[f"{self.prefix}epoch"] = epoch + 1
        wandb.log(row)

    def on_train_end(self, logs=None):
        logs = logs or {}
        if self._owns_run:
            wandb = active_wandb()
            if wandb is not None:
                wandb.finish()
            self._owns_run = False
