#!/usr/bin/env python
"""Train a final predictor: several members of one recipe, written as one ensemble folder.

    python scripts/train_ensemble.py --out runs/final_superdiag --ensemble-val-folds 8 7 6 \\
        --dataset ptbxl --data-dir ../shared/data/ptbxl --task superdiagnostic --train-folds 1-8 ...
    python scripts/train_ensemble.py --out runs/final_af4 --ensemble-seeds 0 --with-features \\
        --dataset cinc2017 --data-dir ../shared/data/cinc2017 --task af4 ...

Every other flag is ``train.py``'s (the shared recipe). PTB-XL members differ in their
validation fold (each trains on the recipe's other folds); other datasets' members differ in
their seed (another validation share, another initialisation). Members are run folders under
``OUT/members/``; run the same command again after an interruption and finished members are
kept, an unfinished one resumes. ``OUT`` is then read like a run by ``evaluate.py``,
``gradcam.py`` (members' heatmaps averaged, ``--member K`` for one), ``export.py`` and ``predict.py``.
``--with-features`` adds the features view (``train_features.py`` on the first member's split):
the networks' ensemble is then ``OUT/networks`` (the run folder those scripts read), the trees
``OUT/features``, and ``OUT`` their equal-weight mean, which ``predict.py`` reads. With it, one
seed or fold is enough (one network and the trees are two views; CinC 2017's final predictor).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.training.cli import config_from_args
    from ecgtf.training.ensemble_train import train_ensemble

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="all other flags: see scripts/train.py --help")
    p.add_argument("--out", required=True, help="the ensemble folder (members go to OUT/members/)")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--ensemble-val-folds", nargs="+", type=int, help="PTB-XL: one member per validation fold, e.g. 8 7 6")
    group.add_argument("--ensemble-seeds", nargs="+", type=int,
                       help="one member per seed, e.g. 0 1 2 (one seed is enough with --with-features)")
    p.add_argument("--with-features", action="store_true",
                   help="also train the features view (gradient-boosted trees on ECG measurements) into "
                        "OUT/features; the networks' ensemble goes to OUT/networks and OUT averages the two")
    args, rest = p.parse_known_args(argv)
    if "--out" in rest or "--resume" in rest:
        p.error("--out names the ensemble folder once; --resume is automatic (run the command again)")
    cfg, _ = config_from_args(rest)
    if cfg is None:
        p.error("--list-models is train.py's: python scripts/train.py --list-models")
    summary = train_ensemble(cfg, args.out, val_folds=args.ensemble_val_folds, seeds=args.ensemble_seeds,
                             features=args.with_features)
    if args.with_features:
        print(f"networks' ensemble in {args.out}/networks, features view in {args.out}/features; "
              f"predict.py --model {args.out} averages the two")
    print(f"ensemble of {len(summary['members'])} written to {args.out}:")
    for m in summary["members"]:
        print("  " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items()))
    for key in [k for k in summary if k.startswith("test_") and not k.endswith("members")]:
        print(f"ensemble {key} {summary[key]:.4f} (members: "
              f"{', '.join(f'{v:.4f}' for v in summary['test_members'])})")
    return summary


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
