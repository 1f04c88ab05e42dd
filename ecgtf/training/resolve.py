"""Resolving a run's configuration: defaults < model defaults < ``--config`` YAML < flags."""

from __future__ import annotations

import dataclasses
import datetime
import os

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig
from ecgtf.models.registry import get_entry


def resolve_config(flags: dict | None = None, config_file: str | None = None) -> TrainConfig:
    """The run's :class:`TrainConfig`.

    Args:
        flags: values given on the command line (``None`` values are ignored).
        config_file: optional YAML file of config keys.

    Later sources win; ``model_options`` dictionaries are merged key by key.
    """
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    from_file = cfglib.load_yaml(config_file) if config_file else {}
    model = flags.get("model") or from_file.get("model") or TrainConfig.model
    entry = get_entry(model)  # unknown names raise, listing the valid ones
    cfg = TrainConfig(model=model)
    options: dict = {}
    for updates, source in ((entry.defaults, f"the defaults of model {model!r}"), (from_file, config_file),
                            (flags, "the command line")):
        updates = dict(updates)
        options.update(updates.pop("model_options", None) or {})
        cfg = cfglib.merge(cfg, updates, source or "")
    return dataclasses.replace(cfg, model_options=options)


def default_run_dir(cfg: TrainConfig, root: str = "runs") -> str:
    """``runs/<model>-<dataset>-<task>-<YYYYmmdd-HHMMSS>``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(root, f"{cfg.model}-{cfg.dataset}-{cfg.task or 'default'}-{stamp}")
