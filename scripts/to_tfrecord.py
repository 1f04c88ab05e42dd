#!/usr/bin/env python
"""Write a dataset as sharded TFRecords of decoded, resampled records with their labels:
``python scripts/to_tfrecord.py --dataset ptbxl --data-dir DIR --task superdiagnostic
--sampling-rate 100 --out FOLDER --shards 16``. ``train.py --data-dir FOLDER`` reads it back."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.data.datasets import DATASETS, load_dataset
    from ecgtf.data.tfrecord import write_tfrecords

    p = argparse.ArgumentParser(description="Sharded TFRecords (records resampled, not filtered) + tfrecords.json.")
    p.add_argument("--dataset", choices=DATASETS, default="synthetic")
    p.add_argument("--data-dir", help="dataset folder (not needed for synthetic)")
    p.add_argument("--task", help="label task (default: the dataset's)")
    p.add_argument("--sampling-rate", type=float, help="Hz to resample to (default: the dataset's own)")
    p.add_argument("--out", required=True, help="folder for the shards")
    p.add_argument("--shards", type=int, default=8, help="number of files (at least the number of workers)")
    p.add_argument("--cache-dir", help="decoded-record cache")
    p.add_argument("--synthetic-n", type=int, help="records in the generated synthetic dataset")
    args = p.parse_args(argv)
    if args.shards < 1:
        raise ValueError(f"--shards must be at least 1, got {args.shards}")
    data = load_dataset(args.dataset, args.data_dir, task=args.task, sampling_rate=args.sampling_rate,
                        cache_root=args.cache_dir, synthetic_n=args.synthetic_n)
    info = write_tfrecords(data, args.out, shards=args.shards)
    print(f"wrote {info['n_records']} records of {info['dataset']} (task {info['task']['name']}, "
          f"{info['sampling_rate']:g} Hz) in {len(info['shards'])} shards to {args.out}")
    return info


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    raise SystemExit(run_cli(main))
