"""Hyperparameter sweeps from wandb sweep files, online (wandb's controller) or offline (Optuna).

:mod:`ecgtf.sweeps.spec` reads and checks the YAML, :mod:`ecgtf.sweeps.space` translates wandb's
distributions into Optuna suggestions, :mod:`ecgtf.sweeps.offline` runs a resumable Optuna
study, :mod:`ecgtf.sweeps.online` hands the file to ``wandb.sweep``/``wandb.agent`` and
:mod:`ecgtf.sweeps.results` writes the table and plots.
"""

from ecgtf.sweeps.spec import SweepSpec, load_sweep, parse_sweep

__all__ = ["SweepSpec", "load_sweep", "parse_sweep"]
