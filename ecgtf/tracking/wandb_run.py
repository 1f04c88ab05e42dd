"""The one wandb run of a training run: opened once, kept across phases and ``--resume``.

``--wandb offline`` needs no account: the run is written under ``<run>/wandb/`` and
``wandb sync <run>/wandb/offline-run-*`` uploads it later (a resumed run's parts share the id,
so they land in the same wandb run). ``online`` logs as it trains. Every file wandb writes
(run files, cache, staged artifacts, settings) goes into the run folder: ``WANDB_DIR``,
``WANDB_CACHE_DIR``, ``WANDB_DATA_DIR``, ``WANDB_CONFIG_DIR`` and ``WANDB_ARTIFACT_DIR`` point
there while the run is open, so nothing lands in ``~``.

The run id is kept in ``<run>/wandb_run_id.txt``; ``--resume`` reopens that id
(``resume="allow"``). A run started by ``wandb.agent`` (online sweeps) is used as it is.
At the end :meth:`TrackedRun.finish` writes the final validation and test scores as the run
summary (``val_<key>``, ``test_<key>``), the final confusion-matrix and ROC pictures, and the
best ``model.keras`` as one ``model`` artifact.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets

#: The wandb run id of a run folder (what ``--resume`` continues).
RUN_ID_FILE = "wandb_run_id.txt"
_current: TrackedRun | None = None


def effective_mode(mode: str) -> str:
    """``mode`` unless ``WANDB_MODE=disabled`` is set in the environment (as in CI)."""
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        return "disabled"
    return mode


def wandb_dirs(run_dir: str) -> dict[str, str]:
    """The wandb environment variables that keep its files in ``run_dir``."""
    base = os.path.abspath(run_dir)
    inner = os.path.join(base, "wandb")
    return {"WANDB_DIR": base, "WANDB_CACHE_DIR": os.path.join(inner, "cache"),
            "WANDB_DATA_DIR": os.path.join(inner, "data"), "WANDB_CONFIG_DIR": os.path.join(inner, "config"),
            "WANDB_ARTIFACT_DIR": os.path.join(inner, "artifacts")}


def _scalars(metrics: dict | None, prefix: str) -> dict:
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value)):
            out[f"{prefix}{key}"] = float(value)
    return out


class TrackedRun:
    """A training run's wandb run, or nothing (``run`` None: every method does nothing).

    Attributes:
        run: the ``wandb.Run`` or None.
        owns: whether :meth:`finish` ends the wandb run (False for one opened by ``wandb.agent``).
    """

    def __init__(self, run=None, owns: bool = False, saved_env: dict | None = None):
        self.run, self.owns, self._saved_env = run, owns, saved_env or {}

    @property
    def active(self) -> bool:
        return self.run is not None

    def finish(self, metrics: dict | None = None, test_metrics: dict | None = None,
               model_path: str | None = None, images: dict | None = None, exit_code: int = 0) -> None:
        """Writes the summary and the model artifact, ends the run (when owned), restores the env.

        Args:
            metrics: final validation scores (``metrics.json``); summary keys ``val_<key>``.
            test_metrics: held-out test scores; summary keys ``test_<key>``.
            model_path: the best ``model.keras``, logged once as a ``model`` artifact.
            images: ``{key: PNG path}`` logged as ``wandb.Image`` (e.g. the final confusion matrix).
            exit_code: non-zero marks the run failed (a pruned or interrupted trial).
        """
        global _current
        if self.run is None:
            self._restore_env()
            return
        import wandb

        try:
            summary = {**_scalars(metrics, "val_"), **_scalars(test_metrics, "test_")}
            for key, value in summary.items():
                self.run.summary[key] = value
            shown = {k: wandb.Image(p) for k, p in (images or {}).items() if os.path.isfile(p)}
            if shown:
                self.run.log(shown)
            if model_path and os.path.isfile(model_path):
                artifact = wandb.Artifact(f"model-{self.run.id}", type="model",
                                          metadata={k: v for k, v in summary.items() if k.startswith("val_")})
                artifact.add_file(model_path, name=os.path.basename(model_path))
                self.run.log_artifact(artifact, aliases=["best"])
        finally:
            if self.owns:
                self.run.finish(exit_code=exit_code)
                wandb.teardown()  # the next run (a sweep's next trial) starts wandb with its own folders
            self._restore_env()
            self.run, _current = None, None

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}


def start_run(cfg, run_dir: str) -> TrackedRun:
    """Opens (or, with ``cfg.resume``, reopens) the wandb run of ``run_dir``.

    Args:
        cfg: the run's :class:`ecgtf.config.TrainConfig` (``wandb``, ``wandb_project``,
            ``wandb_group``, ``resume``); logged as the run config.
        run_dir: the run folder; receives ``wandb/`` and :data:`RUN_ID_FILE`.

    Returns:
        a :class:`TrackedRun` (inactive when the mode is ``disabled``).
    """
    global _current
    mode = effective_mode(cfg.wandb)
    if mode == "disabled":
        return TrackedRun()
    import wandb

    dirs = wandb_dirs(run_dir)
    saved_env = {key: os.environ.get(key) for key in dirs}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    os.environ.update(dirs)
    id_path = os.path.join(run_dir, RUN_ID_FILE)
    config = dataclasses.asdict(cfg)
    if wandb.run is not None:  # opened by wandb.agent (online sweep) or the caller
        run, owns = wandb.run, False
        run.config.update(config, allow_val_change=True)
    else:
        run_id = None
        if cfg.resume and os.path.isfile(id_path):
            with open(id_path) as f:
                run_id = f.read().strip() or None
        try:
            run = wandb.init(project=cfg.wandb_project, group=cfg.wandb_group, id=run_id or secrets.token_hex(4),
                             resume="allow", mode=mode, dir=dirs["WANDB_DIR"],
                             name=os.path.basename(os.path.abspath(run_dir)), config=config, job_type="train")
        except BaseException:  # e.g. online without a login: leave the environment as it was
            TrackedRun(saved_env=saved_env).finish()
            raise
        owns = True
    from ecgtf.atomic import replacing

    with replacing(id_path) as tmp, open(tmp, "w") as f:
        f.write(run.id + "\n")
    _current = TrackedRun(run, owns, saved_env)
    return _current


def abort_current(exit_code: int = 1) -> None:
    """Ends the run :func:`start_run` opened when its training stopped with an exception
    (a pruned sweep trial, an interrupt), marking it failed; nothing when none is open."""
    if _current is not None:
        _current.finish(exit_code=exit_code)
