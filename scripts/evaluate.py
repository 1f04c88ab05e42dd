#!/usr/bin/env python
"""Score a trained run: ``python scripts/evaluate.py --run RUN_DIR [--folds 9 10 | --split test]``."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.config import parse_folds
    from ecgtf.training.evaluate import SPLITS, evaluate_run

    p = argparse.ArgumentParser(description="Evaluate a run folder with its own preprocessing and thresholds.")
    p.add_argument("--run", required=True, help="run folder written by train.py")
    p.add_argument("--dataset", help="dataset to score on (default: the run's)")
    p.add_argument("--data-dir", help="dataset folder (default: the run's)")
    p.add_argument("--folds", nargs="+", help="PTB-XL folds, e.g. 9 10 or 9-10")
    p.add_argument("--split", choices=SPLITS, default="test", help="which split of the run's own rules")
    p.add_argument("--out", help="metrics JSON path (plots go beside it)")
    args = p.parse_args(argv)
    return evaluate_run(args.run, dataset=args.dataset, data_dir=args.data_dir, folds=parse_folds(args.folds),
                        split_name=args.split, out=args.out)


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
