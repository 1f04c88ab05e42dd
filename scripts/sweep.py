#!/usr/bin/env python
"""Hyperparameter sweep from a wandb sweep file: ``scripts/sweep.py --config sweeps/X.yaml --count N [--online]``.

Offline (the default) runs the file locally with Optuna in ``--out`` (default
``runs/sweeps/<name>``): ``sweep_results.csv``, ``parallel_coordinates.png``,
``param_importances.png``, one run folder per trial under ``trials/``; rerun the same
command to resume an interrupted sweep. ``--online`` registers it with ``wandb.sweep`` and
runs ``--count`` trials with ``wandb.agent``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _setting(text: str):
    import yaml

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sweep.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="sweep YAML in wandb's format (see sweeps/)")
    p.add_argument("--count", type=int, help="trials in all (offline) or for this agent (online); default run_cap")
    p.add_argument("--online", action="store_true", help="wandb.sweep + wandb.agent (needs a wandb login)")
    p.add_argument("--out", help="sweep folder (default runs/sweeps/<name>)")
    p.add_argument("--set", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                   help="fix a parameter for this sweep, e.g. --set data_dir=../shared/data/cinc2017")
    p.add_argument("--wandb", choices=["offline", "disabled"], default="offline",
                   help="offline sweeps: each trial an offline wandb run (default) or none")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (offline)")
    return p


def main(argv=None):
    from ecgtf.config import load_yaml
    from ecgtf.sweeps.spec import parse_sweep

    args = build_parser().parse_args(argv)
    config = load_yaml(args.config)
    name = os.path.splitext(os.path.basename(args.config))[0]
    if args.set:
        config = {**config, "parameters": {**(config.get("parameters") or {}),
                                           **{k: {"value": v} for k, v in args.set}}}
    try:
        sweep = parse_sweep(config, name=name)
    except ValueError as err:
        raise ValueError(f"{args.config}: {err}") from None
    count = args.count or config.get("run_cap")
    if not count or count < 1:
        raise ValueError("--count must be at least 1 (or set run_cap in the sweep file)")
    out = args.out or os.path.join("runs", "sweeps", sweep.name)
    if args.online:
        from ecgtf.sweeps.online import run_online

        return run_online(sweep, count, out)
    from ecgtf.sweeps.offline import run_offline, sweep_summary
    from ecgtf.sweeps.results import write_results

    study = run_offline(sweep, count, out, wandb_mode=args.wandb, seed=args.seed)
    paths = write_results(study, sweep.parameters, out, sweep.metric)
    best = sweep_summary(study, sweep.parameters)
    print(f"best trial {best['number']}: {sweep.metric} {best['value']:.4f} with {best['params']} "
          f"({best['run_dir']})")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return study


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
