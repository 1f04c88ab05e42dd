#!/usr/bin/env python
"""Compare two runs on the same records: ``python scripts/compare.py --runs RUN_A RUN_B [--split test]``.

Reads each run's ``predictions.csv`` (``--split val``) or ``test_predictions.csv``
(``--split test``), or ``--file`` (e.g. what ``evaluate.py`` wrote), keeps the records both
scored, and prints the task's main score of each run with a paired-bootstrap 95% interval
of the difference B - A.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

def main(argv=None):
    from ecgtf.evaluation.compare import align_predictions, paired_bootstrap
    from ecgtf.training.report import write_json
    from ecgtf.training.saved import PREDICTION_FILES, read_predictions

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs=2, required=True, metavar=("RUN_A", "RUN_B"), help="two run folders")
    p.add_argument("--split", choices=list(PREDICTION_FILES), default="test",
                   help="which saved predictions to compare")
    p.add_argument("--file", help="predictions file inside each run folder instead, e.g. "
                                   "eval_folds/predictions.csv from evaluate.py")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write the result to this JSON file")
    args = p.parse_args(argv)

    frames, tasks = zip(*(read_predictions(run, args.split, args.file) for run in args.runs))
    if tasks[0].name != tasks[1].name:
        raise SystemExit(f"the runs are for different tasks: {tasks[0].name} and {tasks[1].name}")
    y_true, prob_a, prob_b, _ = align_predictions(*frames)
    result = paired_bootstrap(tasks[0], y_true, prob_a, prob_b, n_boot=args.n_boot, seed=args.seed)
    result.update(run_a=args.runs[0], run_b=args.runs[1], split=args.split,
                  file=args.file or PREDICTION_FILES[args.split])
    low, high = result["ci95"]
    print(f"{result['score']} on {result['n_records']} records in both {result['file']}:")
    print(f"  A {result['score_a']:.4f}  {args.runs[0]}")
    print(f"  B {result['score_b']:.4f}  {args.runs[1]}")
    print(f"  B - A {result['diff']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}] "
          f"({result['n_boot']} paired resamples; B higher in {result['p_b_better']:.0%})")
    if args.out:
        write_json(result, args.out)
    return result


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
