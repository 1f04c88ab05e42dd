"""One training run: data, split, model, (two-phase) fit, best checkpoint, report.

``train(cfg)`` is what ``scripts/train.py`` calls. The run folder receives
``config.yaml``, ``run_spec.json``, ``model.keras`` (best epoch by the task's main validation score,
prior shift folded in), ``checkpoint.keras`` (that epoch as trained, what ``--resume`` continues from),
``history.csv``, ``metrics.json``, ``predictions.csv``, ``thresholds.json``, ``confusion_matrix.png``,
``roc.png``, ``training_curves.png`` and ``skipped.csv``. An interrupted run continues
with ``--resume`` (Keras ``BackupAndRestore``, one backup per phase). While a run works in its folder it
holds ``run.lock`` (:mod:`ecgtf.training.runlock`); a run refused, or stopped before training began,
in a folder it created leaves no folder behind.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
import shutil
import sys
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from ecgtf import config as cfglib
from ecgtf.atomic import replacing
from ecgtf.config import TrainConfig
from ecgtf.data.augment import AugmentConfig
from ecgtf.data.images import make_image_dataset
from ecgtf.data.pipeline import make_raw_dataset
from ecgtf.inputs.runspec import SPEC_FILE, default_window, load_run_data, make_spec, window_samples
from ecgtf.inputs.specs import input_shape_of, split_options, with_prepare
from ecgtf.models.loading import load_model_file
from ecgtf.models.registry import get_entry
from ecgtf.training import distribute
from ecgtf.training.contracts import apply_contract, check_leads, contract_of
from ecgtf.training.predict import predict_records
from ecgtf.training.priors import balanced_weights, can_fold, fold_into_head, prior_shift, record_weights
from ecgtf.training.report import summary_lines, write_json, write_report
from ecgtf.training.resolve import default_run_dir
from ecgtf.training.runlock import RunLock
from ecgtf.training.splits import split_run
from ecgtf.tracking.wandb_run import start_run

# ``weight_decay`` is Keras 3's decoupled decay (Adam with it is AdamW); None disables it.
OPTIMIZERS = {
    "adam": lambda lr, wd: keras.optimizers.Adam(lr, weight_decay=wd),
    "sgd": lambda lr, wd: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=wd),
    "rmsprop": lambda lr, wd: keras.optimizers.RMSprop(lr, weight_decay=wd),
}
PHASE1_MARKER = "phase1.weights.h5"
FIT_DONE = "fit_done.json"  # written when every phase has run: --resume then only finishes the run
#: The best epoch's model as trained (before the prior shift); ``model.keras`` is made from it.
CHECKPOINT = "checkpoint.keras"


@dataclasses.dataclass
class RunResult:
    """What :func:`train` returns."""

    run_dir: str
    metrics: dict
    thresholds: list | None
    epochs_run: int
    seconds: float


def learning_rate(cfg: TrainConfig, lr: float, steps_per_epoch: int, epochs: int):
    """The phase's learning rate: ``lr``, or a cosine decay to 0 with a 1-epoch linear warm-up.

    Args:
        cfg: the run config (``lr_schedule`` is ``constant`` or ``cosine``).
        lr: peak learning rate of the phase.
        steps_per_epoch: optimizer steps per epoch.
        epochs: epochs in the phase; the decay spans all of them.
    """
    if cfg.lr_schedule == "constant":
        return lr
    if cfg.lr_schedule != "cosine":
        raise ValueError(f"--lr-schedule must be constant or cosine, got {cfg.lr_schedule!r}")
    warmup = max(1, steps_per_epoch) if epochs > 1 else 0
    total = max(1, steps_per_epoch * epochs)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else lr, decay_steps=max(1, total - warmup),
        warmup_target=lr if warmup else None, warmup_steps=warmup)


def compile_model(model, task, cfg: TrainConfig, lr) -> None:
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {cfg.optimizer!r}")
    if cfg.weight_decay is not None and cfg.weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {cfg.weight_decay}")
    if task.kind == "multiclass":
        loss, metrics = "categorical_crossentropy", [keras.metrics.CategoricalAccuracy(name="accuracy")]
    else:
        loss = "binary_crossentropy"
        metrics = [keras.metrics.AUC(name="auc", multi_label=task.kind == "multilabel",
                                     num_labels=task.num_outputs if task.kind == "multilabel" else None)]
    with model.distribute_strategy.scope():  # the strategy the model was built under (tf.distribute)
        model.compile(optimizer=OPTIMIZERS[cfg.optimizer](lr, cfg.weight_decay or None), loss=loss, metrics=metrics)


def _subsample(indices, labels, n, seed):
    if n is None or n >= len(indices):
        return indices
    from sklearn.model_selection import train_test_split

    strat = labels[indices].argmax(1) if labels.shape[1] > 1 else labels[indices, 0]
    try:
        keep, _ = train_test_split(indices, train_size=n, random_state=seed, stratify=strat)
    except ValueError:
        keep, _ = train_test_split(indices, train_size=n, random_state=seed)
    return np.sort(keep)


def _say(msg: str) -> None:
    print(msg, flush=True)


def build_model(entry, cfg: TrainConfig, input_shape, task, builder_opts: dict):
    """Builds the run's model; returns ``(model, cfg)`` with the weights actually used.

    Without ``--weights``, a backbone's default (ImageNet) is tried; when it cannot be
    downloaded the run says so loudly and trains from random initialisation with the
    whole network trainable. An explicit ``--weights imagenet`` fails instead.
    """
    from ecgtf.models.backbones import BackboneWeightsError

    run_keys = {"activation": task.activation, "init_from": cfg.init_from, "freeze": cfg.freeze}
    if cfg.weights is not None:
        run_keys["weights"] = cfg.weights
    params = inspect.signature(entry.builder).parameters  # run-wide keys go to the builders that take them
    options = {**{k: v for k, v in run_keys.items() if k in params}, **builder_opts}
    try:
        network = entry.builder(input_shape, task.num_outputs, **options)
        if cfg.init_from and "init_from" not in params:
            _start_from(network, cfg.init_from)
        return network, cfg
    except BackboneWeightsError as err:
        if cfg.weights is not None or "weights" not in inspect.signature(entry.builder).parameters:
            raise
        _say("=" * 78)
        _say(f"NOTE: {err}")
        _say("Training from random initialisation instead (as with --weights none), with the whole")
        _say("network trainable from the first epoch. Pass --weights imagenet to make this an error.")
        _say("=" * 78)
        options = {**options, "weights": "none"}
        if "frozen" in inspect.signature(entry.builder).parameters:
            options["frozen"] = False
        cfg = dataclasses.replace(cfg, weights="none", unfreeze_after=None,
                                  model_options={**cfg.model_options, "frozen": False})
        return entry.builder(input_shape, task.num_outputs, **options), cfg


def train(cfg: TrainConfig, callbacks=()) -> RunResult:
    """Runs one training as configured and writes the run folder.

    Args:
        cfg: the run's configuration.
        callbacks: more Keras callbacks for every phase, after the run's own (they see the
            ``val_*`` scores in the epoch logs), e.g. a sweep's per-epoch pruning hook.
    """
    cfglib.validate(cfg)
    strategy = distribute.make_strategy(cfg.strategy)  # first: the multi-worker one precedes any TF op
    batch_size = distribute.global_batch_size(cfg.batch_size, strategy)
    start = time.perf_counter()
    if cfg.init_from and not os.path.exists(cfg.init_from):  # before the data load, and before any folder
        raise FileNotFoundError(f"--init-from {cfg.init_from}: no such run folder or model file")
    run_dir = cfg.out or default_run_dir(cfg)
    saved = os.path.join(run_dir, "config.yaml")
    if cfg.resume and not os.path.isfile(saved):
        raise FileNotFoundError(f"--resume needs --out pointing at an earlier run; no {saved}")
    created = not os.path.isdir(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    # One process at a time in a run folder (the chief's; other workers write temporary folders).
    lock = RunLock(run_dir, say=_say).acquire() if distribute.is_chief(strategy) else None
    try:
        if cfg.resume:
            finished_fit(run_dir, cfg)  # more epochs for a finished run stop here, before any file changes
        return _train_in(cfg, run_dir, strategy, batch_size, start, callbacks)
    except BaseException:
        if created and lock is not None and not os.path.isfile(saved):  # refused, or stopped before
            shutil.rmtree(run_dir, ignore_errors=True)  # training began: no run folder left behind
        raise
    finally:
        if lock is not None:
            lock.release()


def _train_in(cfg: TrainConfig, run_dir: str, strategy, batch_size: int, start: float, callbacks) -> RunResult:
    run_dir = distribute.writable_dir(run_dir, strategy, cfg.resume)  # the chief's; a temporary one for workers
    keras.utils.set_random_seed(cfg.seed)

    entry = get_entry(cfg.model)
    _, builder_opts = split_options(entry, cfg.model_options)  # unknown --option keys stop here
    contract = contract_of(entry, cfg)
    cfg = apply_contract(cfg, contract, say=_say)
    data = load_run_data(cfg, say=_say)
    check_leads(contract, data.lead_names)
    _write_csv(data.skipped, os.path.join(run_dir, "skipped.csv"))
    if len(data) == 0:  # the run folder goes, skipped.csv with it: the reasons are in the message
        reasons = "; ".join(f"{n} {reason}" for reason, n in _skip_reasons(data.skipped).items())
        raise ValueError(f"no usable records for task {data.task.name} in {data.data_dir} "
                         f"({len(data.skipped)} skipped{': ' + reasons if reasons else ''})")
    if cfg.duration_s:
        length = window_samples(cfg.duration_s, data.sampling_rate)
    else:  # from the length distribution: one long record must not set every record's window
        length, why = default_window(data.lengths, data.sampling_rate)
        _say(why)
    cfg = dataclasses.replace(cfg, out=run_dir, task=data.task.name, duration_s=length / data.sampling_rate,
                              sampling_rate=cfg.sampling_rate or data.sampling_rate)
    task = data.task
    spec = make_spec(cfg, entry, task, data.sampling_rate, data.lead_names, length)
    prepare = spec.build_prepare()
    _say(f"{data.name} ({data.data_dir}): {len(data)} records for task {task.name}, "
         f"{data.sampling_rate:g} Hz, loaded in {data.load_seconds:.1f} s"
         f"{' from cache' if data.from_cache else ''}; {len(data.skipped)} skipped (see skipped.csv)")
    for reason, n in _skip_reasons(data.skipped).items():
        _say(f"  skipped {n}: {reason}")
    if len(data.warnings):
        _write_csv(data.warnings, os.path.join(run_dir, "warnings.csv"))
        _say(f"  {len(data.warnings)} records kept with warnings (see warnings.csv), e.g. "
             f"{data.warnings.iloc[0]['record_id']}: {data.warnings.iloc[0]['reason']}")

    notes: list[str] = []
    parts = split_run(data, cfg, notes=notes)
    for note in notes:
        _say(f"note: {note}")
    parts["train"] = _subsample(parts["train"], data.labels, cfg.max_train_records, cfg.seed)
    if len(parts["train"]) == 0 or len(parts["val"]) == 0:
        raise ValueError(f"empty split: {len(parts['train'])} training and {len(parts['val'])} validation records")
    _say(f"split: {len(parts['train'])} train, {len(parts['val'])} validation, {len(parts['test'])} test; "
         f"train classes: {_counts(task, data.labels[parts['train']])}")

    input_shape = input_shape_of(prepare)
    with strategy.scope():
        network, cfg = build_model(entry, cfg, input_shape, task, builder_opts)
    model = with_prepare(network, prepare)
    cfglib.save(cfg, os.path.join(run_dir, "config.yaml"))
    spec.save(os.path.join(run_dir, SPEC_FILE))
    tracker = start_run(cfg, run_dir)  # one wandb run for all phases (and --resume); inactive when disabled
    _say(f"model {cfg.model}: input {input_shape} from {length}-sample windows, "
         f"{network.count_params():,} parameters")

    per_class = balanced_weights(task, data.labels[parts["train"]], cfg.class_weight)
    weights = record_weights(task, data.labels, per_class)
    shift = prior_shift(task, per_class, cfg.decision_prior)
    if shift is not None and not can_fold(network):
        _say(f"note: the output of {cfg.model} is not a softmax Dense layer, so its class-weighted "
             "probabilities are kept (as with --decision-prior balanced)")
        shift = None
    if spec.printout:  # rendered printouts (uint8 images) instead of mV windows
        train_ds = make_image_dataset(data, parts["train"], options=spec.options(), window_samples=length,
                                      batch_size=batch_size, training=True, seed=cfg.seed, sample_weights=weights)
    else:
        train_ds = make_raw_dataset(data, parts["train"], length=length, batch_size=batch_size, training=True,
                                    seed=cfg.seed, augment_config=AugmentConfig() if cfg.augment else None,
                                    sample_weights=weights, drop_remainder=distribute.replicas(strategy) > 1)
    train_ds = train_ds.map(lambda x, *rest: (prepare(x), *rest), num_parallel_calls=tf.data.AUTOTUNE)
    val_ds = validation_dataset(data, parts["val"], prepare, length, batch_size=max(cfg.batch_size, 32), spec=spec)

    steps = math.ceil(len(parts["train"]) / batch_size)
    epochs_run = _fit_phases(network, model, entry, task, cfg, run_dir, train_ds, val_ds, steps, shift,
                             extra_callbacks=callbacks)

    # Finishing is idempotent: model.keras is always made anew from the checkpoint (never from
    # itself), so a run killed anywhere here and resumed folds the prior shift in exactly once.
    checkpoint = os.path.join(run_dir, CHECKPOINT)
    if os.path.isfile(checkpoint):
        model = load_model_file(checkpoint)
    else:  # no epoch had a finite score: keep the last epoch
        save_atomic(model, checkpoint)
    if shift is not None:  # the checkpoint holds the class-weighted head; the saved model decides at data priors
        fold_into_head(model, shift)
        _say("output bias shifted by -log(class weight), so the probabilities follow the training "
             "class frequencies (--decision-prior data)")
    save_atomic(model, os.path.join(run_dir, "model.keras"))
    y_prob = predict_records(model, data, parts["val"], spec)
    y_true = data.labels[parts["val"]]
    from ecgtf.evaluation.thresholds import tune_thresholds

    thresholds = tune_thresholds(task, y_true, y_prob)
    write_json({"classes": list(task.output_names), "thresholds": thresholds,
                "prior_shift": None if shift is None else [float(v) for v in shift]},
               os.path.join(run_dir, "thresholds.json"))
    ids = data.meta["record_id"].to_numpy()
    metrics = write_report(task, y_true, y_prob, run_dir, thresholds=thresholds,
                           history_csv=os.path.join(run_dir, "history.csv"), record_ids=ids[parts["val"]])
    test_metrics = None
    if len(parts["test"]):
        y_test = predict_records(model, data, parts["test"], spec)
        test_metrics = write_report(task, data.labels[parts["test"]], y_test, run_dir, thresholds=thresholds,
                                    metrics_name="test_metrics.json", prefix="test_", record_ids=ids[parts["test"]])
    tracker.finish(metrics, test_metrics, os.path.join(run_dir, "model.keras"),
                   images={"final/confusion_matrix": os.path.join(run_dir, "confusion_matrix.png"),
                           "final/roc": os.path.join(run_dir, "roc.png")})
    seconds = time.perf_counter() - start
    _say(f"validation ({len(parts['val'])} records), run took {seconds:.0f} s:")
    for line in summary_lines(task, metrics):
        _say(f"  {line}")
    _say(f"run folder: {run_dir}")
    return RunResult(run_dir, metrics, thresholds, epochs_run, seconds)


def _start_from(network, init_from: str) -> None:
    """``--init-from`` for a model without a transfer head: ``network`` starts from the weights
    of a run of the same architecture (its ``checkpoint.keras``, before any prior shift), e.g.
    to train a finished run on for more epochs.

    Raises:
        ValueError: the run's network is not the one this run builds.
    """
    from ecgtf.models.transfer import load_pretrained

    path = os.path.join(init_from, CHECKPOINT) if os.path.isfile(os.path.join(init_from, CHECKPOINT)) else init_from
    source = load_pretrained(path)
    mine, theirs = network.get_weights(), source.get_weights()
    if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
        raise ValueError(f"--init-from {init_from}: its network ({source.count_params():,} parameters) is not the "
                         f"one this run builds ({network.count_params():,}); start from a run of the same model, "
                         "options, input and classes")
    network.set_weights(theirs)
    _say(f"weights from {path} (--init-from)")


def validation_dataset(data, indices, prepare, length: int, batch_size: int = 32, spec=None) -> tf.data.Dataset:
    """``(network input, y)`` batches of the centre windows of ``indices``, cached: what the
    network sees in training's per-epoch validation pass (the printouts of the records, for a
    ``spec`` of a printout kind)."""
    if spec is not None and spec.printout:
        ds = make_image_dataset(data, indices, options=spec.options(), window_samples=length, batch_size=batch_size,
                                training=False)
    else:
        ds = make_raw_dataset(data, indices, length=length, batch_size=batch_size, training=False)
    return ds.map(lambda x, y: (prepare(x), y), num_parallel_calls=tf.data.AUTOTUNE).cache()


def _fit_phases(model, saved_model, entry, task, cfg, run_dir, train_ds, val_ds, steps_per_epoch: int,
                shift=None, extra_callbacks=()) -> int:
    """Fits phase 1 (and phase 2 from ``unfreeze_after`` when the model supports it).

    ``model`` is the network that trains (on prepared inputs from ``tf.data``);
    ``saved_model`` is the same network behind its ``prepare`` block, which the checkpoint saves.
    """
    two_phase = cfg.unfreeze_after is not None and 0 < cfg.unfreeze_after < cfg.epochs
    if cfg.unfreeze_after is not None and entry.unfreeze is None:
        _say(f"note: model {cfg.model} has no second phase; --unfreeze-after is ignored")
        two_phase = False
    if two_phase and not frozen_layers(model):
        _say(f"note: nothing in {cfg.model} is frozen (random initialisation), so --unfreeze-after "
             f"{cfg.unfreeze_after} has nothing to unfreeze; training all {cfg.epochs} epochs in one phase")
        two_phase = False
    marker = os.path.join(run_dir, PHASE1_MARKER)
    history_csv = os.path.join(run_dir, "history.csv")
    if not cfg.resume:  # a fresh run in an old folder starts from nothing
        for stale in (marker, history_csv, os.path.join(run_dir, FIT_DONE), os.path.join(run_dir, "model.keras"),
                      os.path.join(run_dir, CHECKPOINT)):
            if os.path.exists(stale):
                os.remove(stale)
        shutil.rmtree(os.path.join(run_dir, "backup"), ignore_errors=True)
    else:
        _checkpoint_of_older_run(run_dir)
        done = _epochs_logged(history_csv)
        finished = finished_fit(run_dir, cfg)
        if finished is not None:  # Keras drops its backups when a fit ends: fitting again would start afresh
            _say(f"resume: all {finished['epochs_run']} epochs ran earlier; reporting the best checkpoint again")
            return finished["epochs_run"]
        if done >= cfg.epochs:
            _say(f"resume: all {cfg.epochs} epochs ran earlier; reporting the best checkpoint again")
            return done
        backed_up = _epochs_backed_up(run_dir, cfg.unfreeze_after if two_phase and os.path.exists(marker) else 0)
        if backed_up < done:  # killed after an epoch was logged but before it was backed up: it runs again
            _trim_history(history_csv, backed_up)
    phases = [(0, cfg.unfreeze_after, cfg.lr), (cfg.unfreeze_after, cfg.epochs, cfg.fine_tune_lr or cfg.lr / 10)] \
        if two_phase else [(0, cfg.epochs, cfg.lr)]
    for number, (first, last, lr) in enumerate(phases, start=1):
        if number == 1 and two_phase and cfg.resume and os.path.exists(marker):
            model.load_weights(marker)
            _say("resume: phase 1 finished earlier; continuing with phase 2")
            continue
        if number == 2:
            entry.unfreeze(model)
            _say(f"phase 2 from epoch {first + 1}: {_trainable(model):,} trainable parameters, lr {lr:g}")
        compile_model(model, task, cfg, learning_rate(cfg, lr, steps_per_epoch, last - first))
        callbacks = _callbacks(task, cfg, run_dir, val_ds, saved_model, phase=number, shift=shift)
        callbacks += list(extra_callbacks)
        model.fit(train_ds, epochs=last, shuffle=False, initial_epoch=first, callbacks=callbacks,
                  verbose=cfg.verbose if cfg.verbose is not None else (1 if sys.stdout.isatty() else 2))
        if number == 1 and two_phase:
            model.save_weights(marker)
    epochs_run = _epochs_logged(history_csv)
    write_json({"epochs": cfg.epochs, "epochs_run": epochs_run}, os.path.join(run_dir, FIT_DONE))
    return epochs_run


def finished_fit(run_dir: str, cfg: TrainConfig) -> dict | None:
    """``{"epochs": configured, "epochs_run": ran}`` of a run folder whose fitting ended, else None.

    Raises:
        ValueError: it ended and ``cfg`` asks for other epochs: ``--resume`` cannot add epochs
            (Keras drops its backups when a fit ends, so fitting again would start from scratch).
    """
    try:
        with open(os.path.join(run_dir, FIT_DONE)) as f:
            finished = json.load(f)
    except (OSError, ValueError):
        finished = None
    done = _epochs_logged(os.path.join(run_dir, "history.csv"))
    if finished is None and done and os.path.isfile(os.path.join(run_dir, "metrics.json")) \
            and _epochs_backed_up(run_dir) == 0:
        finished = {"epochs": None, "epochs_run": done}  # a finished run from before FIT_DONE existed
    if finished is not None and (finished["epochs"] not in (None, cfg.epochs)
                                 or (finished["epochs"] is None and done < cfg.epochs)):
        raise ValueError(f"run {run_dir} finished its training ({finished['epochs_run']} epochs); --resume "
                         f"finishes an interrupted run and cannot add epochs (--epochs {cfg.epochs}): "
                         f"start a new run with --init-from {run_dir} to train on from its weights")
    return finished


def save_atomic(model, path: str) -> None:
    """Saves ``model`` to ``path`` through a temporary file in the same folder and a rename, so a
    kill during the write leaves the previous file (or none), never a truncated one."""
    with replacing(path) as tmp:
        model.save(tmp)


def _checkpoint_of_older_run(run_dir: str) -> None:
    """Gives a run folder from before ``checkpoint.keras`` existed its checkpoint, on ``--resume``.

    Such folders checkpointed into ``model.keras`` and folded the prior shift into it when the
    run ended (recorded in ``thresholds.json``): the checkpoint is that model without the shift.
    """
    from ecgtf.training.saved import read_thresholds

    checkpoint, final = os.path.join(run_dir, CHECKPOINT), os.path.join(run_dir, "model.keras")
    if os.path.isfile(checkpoint) or not os.path.isfile(final):
        return
    model = load_model_file(final)
    shift = read_thresholds(run_dir).get("prior_shift")
    if shift is not None:
        fold_into_head(model, -np.asarray(shift, dtype=np.float64))
    save_atomic(model, checkpoint)


def frozen_layers(model) -> list[str]:
    """Names of the layers with weights that are frozen (``trainable=False``)."""
    return [layer.name for layer in model.layers if layer.weights and not layer.trainable]


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the run's whole model (``prepare`` block + the network being fitted, which shares
    its weights) whenever ``monitor`` beats its best, atomically (:func:`save_atomic`).

    Keras's ``ModelCheckpoint`` writes in place (a kill mid-write leaves a 0-byte file) and
    saves the model being fitted, here the network alone.

    Args:
        saved_model: the model to save.
        path: the checkpoint file (``.keras``).
        monitor: a key of the epoch logs; higher is better; non-finite values never count.
        best: the best value of an earlier, resumed part of the run.
    """

    def __init__(self, saved_model, path: str, monitor: str, best: float | None = None):
        super().__init__()
        self.saved_model, self.path, self.monitor, self.best = saved_model, path, monitor, best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        if self.best is None or float(value) > self.best:
            self.best = float(value)
            save_atomic(self.saved_model, self.path)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore`` with each backup file written to a temporary name and renamed
    into place: a kill while it writes leaves the previous backup whole (Keras writes in place,
    and a truncated ``latest.weights.h5`` made ``--resume`` fail). Overrides Keras 3's
    ``_save_model`` (``keras<3.16`` pinned), which writes the weights and ``training_metadata.json``.
    """

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        with replacing(self._weights_path) as tmp:
            self.model.save_weights(tmp, overwrite=True)
        with replacing(self._training_metadata_path) as tmp, open(tmp, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)


class HistoryCSV(keras.callbacks.Callback):
    """``history.csv``: one row per epoch (``epoch`` first, then the logs), appended to the rows
    already there and written through a temporary file and a rename. Keras's ``CSVLogger`` opens
    the file in place when training begins, so a kill in epoch 1 left a 0-byte ``history.csv``."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch}
        for key, value in sorted((logs or {}).items()):
            value = np.asarray(value)
            row[key] = value.item() if value.size == 1 else str(value.tolist())
        hist = _history(self.path)
        rows = pd.DataFrame([row]) if hist.empty else pd.concat([hist, pd.DataFrame([row])], ignore_index=True)
        _write_csv(rows, self.path)


def _callbacks(task, cfg, run_dir, val_ds, saved_model, phase: int, shift=None) -> list:
    from ecgtf.callbacks import ConfusionMatrixImage, ValidationScores, wandb_callbacks

    monitor = f"val_{task.main_score}"
    best = _best_so_far(os.path.join(run_dir, "history.csv"), monitor)
    scores = ValidationScores(task, val_ds, prior_shift=shift)
    callbacks = [
        scores,
        BestCheckpoint(saved_model, os.path.join(run_dir, CHECKPOINT), monitor, best),
        ConfusionMatrixImage(scores, list(task.classes), os.path.join(run_dir, "epochs"),
                             tensorboard_dir=os.path.join(run_dir, "tensorboard"),
                             use_wandb=cfg.wandb != "disabled"),
        HistoryCSV(os.path.join(run_dir, "history.csv")),
        keras.callbacks.TerminateOnNaN(),
        AtomicBackupAndRestore(os.path.join(run_dir, "backup", f"phase{phase}")),
    ]
    if cfg.patience:
        callbacks.insert(2, keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=cfg.patience))
    if cfg.wandb != "disabled":  # the run's one wandb run, opened by train(); [] when none is active
        callbacks += wandb_callbacks(scores, task)
    return callbacks


def _epochs_backed_up(run_dir: str, at_least: int = 0) -> int:
    """Epochs the Keras backups of the run hold (what ``--resume`` continues after)."""
    done = at_least
    for phase in (1, 2):
        path = os.path.join(run_dir, "backup", f"phase{phase}", "training_metadata.json")
        try:
            with open(path) as f:
                done = max(done, int(json.load(f)["epoch"]))
        except (OSError, ValueError, KeyError):
            continue
    return done


def _write_csv(frame: pd.DataFrame, path: str) -> None:
    """``frame`` to ``path`` through a temporary file and a rename."""
    with replacing(path) as tmp:
        frame.to_csv(tmp, index=False)


def _trim_history(history_csv: str, epochs: int) -> None:
    """Keeps the rows of the first ``epochs`` epochs of ``history.csv``."""
    hist = _history(history_csv)
    _write_csv(hist[hist["epoch"] < epochs], history_csv)


def _history(history_csv: str) -> pd.DataFrame:
    """The epochs logged so far; empty when the file is missing, empty (a run killed in its
    first epoch leaves a 0-byte file) or cut off mid-line."""
    try:
        hist = pd.read_csv(history_csv)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return pd.DataFrame({"epoch": []})
    return hist if "epoch" in hist else pd.DataFrame({"epoch": []})


def _best_so_far(history_csv: str, monitor: str) -> float | None:
    hist = _history(history_csv)
    if monitor not in hist or hist[monitor].dropna().empty:
        return None
    return float(hist[monitor].max())


def _epochs_logged(history_csv: str) -> int:
    return int(_history(history_csv)["epoch"].nunique())


def _skip_reasons(skipped: pd.DataFrame) -> pd.Series:
    """Skipped records per reason (the text before its first colon), most frequent first."""
    return skipped["reason"].str.split(":").str[0].value_counts()


def _trainable(model) -> int:
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def _counts(task, labels) -> str:
    if task.kind == "binary":
        pos = int(labels[:, 0].sum())
        return f"{task.classes[0]} {len(labels) - pos}, {task.classes[1]} {pos}"
    return ", ".join(f"{c} {int(n)}" for c, n in zip(task.classes, labels.sum(0)))
