"""Command-line parsing for ``scripts/train.py`` (kept apart so tests can use it)."""

from __future__ import annotations

import argparse
import os

import yaml

from ecgtf import config as cfglib
from ecgtf.config import TrainConfig, parse_folds
from ecgtf.data.datasets import DATASETS
from ecgtf.training.priors import CLASS_WEIGHTS, DECISION_PRIORS


def _option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option takes KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train.py", description="Train an ECG classifier; writes a run folder (see README).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter, argument_default=None)
    p.add_argument("--model", help=f"registry name (default {TrainConfig.model}; --list-models shows all)")
    p.add_argument("--list-models", action="store_true", help="print the registered models and exit")
    p.add_argument("--dataset", choices=DATASETS, help="default: synthetic (generated on first use)")
    p.add_argument("--data-dir", help="dataset folder (not needed for synthetic)")
    p.add_argument("--task", help="e.g. af4, superdiagnostic, mi_vs_norm, normal_abnormal, ribeiro6, scored27")
    p.add_argument("--sampling-rate", type=float, help="Hz to resample to (default: the dataset's own)")
    p.add_argument("--duration-s", type=float, help="window length in seconds (default: the 95th-percentile "
                   "record length, at most twice the median)")
    p.add_argument("--signal-filter", choices=["none", "bandpass", "baseline"])
    p.add_argument("--standardize", action="store_true", help="per-lead standardisation of each window")
    p.add_argument("--augment", action="store_true", help="noise, baseline wander, scaling, time shift")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--lr-schedule", choices=["constant", "cosine"],
                   help="learning rate over each phase: constant, or cosine decay to 0 after a 1-epoch warm-up")
    p.add_argument("--optimizer", choices=["adam", "sgd", "rmsprop"])
    p.add_argument("--weight-decay", type=float,
                   help="decoupled weight decay, e.g. 0.01 (with adam this is AdamW); default none")
    p.add_argument("--class-weight", choices=CLASS_WEIGHTS, help="auto: balance the classes in the loss")
    p.add_argument("--decision-prior", choices=DECISION_PRIORS,
                   help="single-label tasks trained with class weights: data (default) shifts the saved "
                        "model's output so its probabilities follow the training class frequencies; "
                        "balanced keeps the class-weighted probabilities")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run folder (default runs/<model>-<dataset>-<task>-<time>)")
    p.add_argument("--config", help="YAML file of config keys (flags override it)")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--strict", action="store_true", help="stop on the first bad record instead of skipping")
    p.add_argument("--train-folds", nargs="+", help="PTB-XL folds, e.g. 1-7")
    p.add_argument("--val-folds", nargs="+", help="PTB-XL folds, e.g. 8")
    p.add_argument("--test-folds", nargs="+", help="PTB-XL folds, e.g. 9 10")
    p.add_argument("--val-fraction", type=float, help="stratified validation share (non-PTB-XL)")
    p.add_argument("--test-fraction", type=float, help="stratified held-out test share (non-PTB-XL; default 0)")
    p.add_argument("--max-train-records", type=int, help="keep only this many training records")
    p.add_argument("--eval-hop-s", type=float, help="average predictions over windows this far apart (0: the centre window only)")
    p.add_argument("--weights", help="backbone weights: imagenet | none | PATH")
    p.add_argument("--init-from", help="run folder, .keras or published .hdf5 to start from (transfer)")
    p.add_argument("--freeze", type=int, help="layers frozen in transfer learning")
    p.add_argument("--unfreeze-after", type=int, help="epoch at which a second, unfrozen phase starts")
    p.add_argument("--fine-tune-lr", type=float, help="learning rate of the second phase (default lr/10)")
    p.add_argument("--option", action="append", type=_option, metavar="KEY=VALUE",
                   help="model option, e.g. --option image_size=[128,128]")
    p.add_argument("--synthetic-n", type=int, help="records in the generated synthetic dataset")
    p.add_argument("--scoring-dir", help="CinC 2020 scoring tables (weights.csv)")
    p.add_argument("--cache-dir", help="decoded-record cache (default $ECGTF_CACHE or ~/.cache/ecgtf)")
    p.add_argument("--patience", type=int, help="early stopping patience in epochs")
    p.add_argument("--wandb", nargs="?", const="online", choices=cfglib.WANDB_MODES,
                   help="Weights & Biases logging: disabled (default), offline (no account; files in the "
                        "run folder, `wandb sync` uploads them later) or online; --wandb alone is online")
    p.add_argument("--wandb-project")
    p.add_argument("--wandb-group", help="wandb run group (sweeps put their trials in one)")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2], help="Keras verbosity (default: bars on a TTY)")
    p.add_argument("--strategy", choices=["auto", "mirrored", "multiworker"],
                   help="tf.distribute: local GPUs (mirrored), a TF_CONFIG cluster (multiworker); auto picks "
                        "(--batch-size is per replica)")
    return p


def config_from_args(argv=None) -> tuple[TrainConfig | None, argparse.Namespace]:
    """Parses ``argv`` into a resolved :class:`TrainConfig` (None with ``--list-models``)."""
    from ecgtf.training.resolve import resolve_config

    args = build_parser().parse_args(argv)
    if args.list_models:
        return None, args
    flags = {k: v for k, v in vars(args).items() if k not in ("config", "list_models", "option")}
    for key in ("standardize", "augment", "resume", "strict"):
        flags[key] = True if flags[key] else None
    for key in ("train_folds", "val_folds", "test_folds"):
        flags[key] = parse_folds(flags[key])
    if args.option:
        flags["model_options"] = dict(args.option)
    if args.resume:
        if not args.out or not os.path.isfile(os.path.join(args.out, "config.yaml")):
            raise SystemExit("--resume needs --out RUN_DIR of an earlier run (with its config.yaml)")
        saved = cfglib.load(os.path.join(args.out, "config.yaml"))
        given = {k: v for k, v in flags.items() if v is not None}
        merged = {**saved.model_options, **given.pop("model_options", {})}
        return cfglib.validate(cfglib.merge(saved, {**given, "model_options": merged}, "the command line")), args
    return cfglib.validate(resolve_config(flags, args.config)), args
