#!/usr/bin/env python
"""Train the features view (gradient-boosted trees on ECG measurements):
``python scripts/train_features.py --dataset ptbxl --data-dir DIR --task superdiagnostic --out RUN``.

Writes a run folder that ``ensemble.py`` averages with network runs and ``predict.py`` scores
files with (see :mod:`ecgtf.training.features_run`). Splits as ``train.py`` does: PTB-XL folds
(``--train-folds``, ``--val-folds``, ``--test-folds``), stratified shares elsewhere.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main(argv=None):
    from ecgtf.config import parse_folds
    from ecgtf.data.datasets import DATASETS
    from ecgtf.features.gbm import GBMParams
    from ecgtf.training.features_run import FeaturesConfig, train_features_run

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=DATASETS, default="synthetic")
    p.add_argument("--data-dir", help="dataset folder (not needed for synthetic)")
    p.add_argument("--task", help="e.g. superdiagnostic, mi_vs_norm, af4 (default: the dataset's)")
    p.add_argument("--sampling-rate", type=float, default=100.0,
                   help="Hz the records are decoded at (the features are measured at 100 Hz)")
    p.add_argument("--train-folds", nargs="+", help="PTB-XL folds, e.g. 1-7")
    p.add_argument("--val-folds", nargs="+", help="PTB-XL folds that tune the thresholds, e.g. 8")
    p.add_argument("--test-folds", nargs="+", help="PTB-XL folds scored and never fitted on, e.g. 9 10")
    p.add_argument("--val-fraction", type=float, default=0.2, help="stratified validation share (non-PTB-XL)")
    p.add_argument("--test-fraction", type=float, default=0.0, help="stratified test share (non-PTB-XL)")
    p.add_argument("--seed", type=int, default=0, help="split and tree seed")
    p.add_argument("--max-iter", type=int, default=GBMParams.max_iter, help="boosting rounds")
    p.add_argument("--synthetic-n", type=int, help="records of the synthetic dataset (default: the generator's)")
    p.add_argument("--out", required=True, help="run folder")
    args = p.parse_args(argv)
    cfg = FeaturesConfig(dataset=args.dataset, data_dir=args.data_dir, task=args.task,
                         sampling_rate=args.sampling_rate, train_folds=parse_folds(args.train_folds),
                         val_folds=parse_folds(args.val_folds), test_folds=parse_folds(args.test_folds),
                         val_fraction=args.val_fraction, test_fraction=args.test_fraction, seed=args.seed,
                         synthetic_n=args.synthetic_n, out=args.out, params=GBMParams(max_iter=args.max_iter, seed=args.seed))
    return train_features_run(cfg)


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
