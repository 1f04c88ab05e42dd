#!/usr/bin/env python
"""Training throughput (records/s) of two checkouts, side by side in one run.

    git worktree add /tmp/ecgtf-before <ref>
    python benchmarks/bench_train_throughput.py --before /tmp/ecgtf-before --data-dir ../shared/data/cinc2017

Each repeat trains the ``cinc2017_af4`` recipe of ``bench_real_data.py`` (compact1d, 150 Hz, 30 s
crops, standardised, augmented) for ``--epochs`` epochs on ``--records`` training records with the
``before`` checkout and then with this one (alternating, so machine noise hits both). Time is the
wall time inside ``keras.Model.fit`` (training steps, the per-epoch validation pass and its
callbacks); data loading and the final report are left out. The table gives records/s per run
and the after/before ratio of the medians.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = ["--dataset", "cinc2017", "--task", "af4", "--model", "compact1d", "--sampling-rate", "150",
          "--duration-s", "30", "--standardize", "--augment", "--batch-size", "32", "--lr", "0.002",
          "--lr-schedule", "cosine", "--test-fraction", "0.2", "--val-fraction", "0.1", "--verbose", "0"]
# Runs inside the child: times keras.Model.fit, then trains with the checkout on sys.path[0].
CHILD = r"""
import json, sys, time, keras
root, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, root); sys.path.insert(0, root + "/scripts")
fits = []
original = keras.Model.fit
def timed(self, *a, **k):
    start = time.perf_counter()
    history = original(self, *a, **k)
    fits.append((time.perf_counter() - start, len(history.epoch)))
    return history
keras.Model.fit = timed
import train
train.main(argv)
json.dump({"seconds": sum(s for s, _ in fits), "epochs": sum(e for _, e in fits)}, open(out, "w"))
"""


def run_once(root: str, args, out_dir: str, tag: str) -> dict:
    result = os.path.join(out_dir, f"{tag}.json")
    argv = [*RECIPE, "--data-dir", args.data_dir, "--cache-dir", args.cache_dir, "--epochs", str(args.epochs),
            "--max-train-records", str(args.records), "--out", os.path.join(out_dir, tag)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": root}
    subprocess.run([sys.executable, "-c", CHILD, root, result, *argv], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    with open(result) as f:
        timing = json.load(f)
    timing["records_per_s"] = args.records * timing["epochs"] / timing["seconds"]
    return timing


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", required=True, help="checkout of the code to compare against (git worktree)")
    p.add_argument("--after", default=os.path.join(HERE, ".."), help="checkout measured (default: this one)")
    p.add_argument("--data-dir", default="../shared/data/cinc2017")
    p.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "ecgtf-bench-cache"))
    p.add_argument("--records", type=int, default=1500, help="training records per epoch")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", default=os.path.join(HERE, "results", "train_throughput_cinc2017_af4.json"))
    args = p.parse_args(argv)
    rows = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        run_once(os.path.abspath(args.after), args, tmp, "warm-up")  # decodes the data into the shared cache
        for r in range(args.repeats):
            for name in ("before", "after"):
                rows[name].append(run_once(os.path.abspath(getattr(args, name)), args, tmp, f"{name}{r}"))
                print(f"repeat {r + 1} {name:6s}: {rows[name][-1]['records_per_s']:.1f} records/s", flush=True)
    medians = {k: statistics.median(t["records_per_s"] for t in v) for k, v in rows.items()}
    summary = {"command": "python benchmarks/bench_train_throughput.py " + " ".join(argv or sys.argv[1:]),
               "records": args.records, "epochs": args.epochs, "runs": rows,
               "median_records_per_s": medians, "after_over_before": medians["after"] / medians["before"]}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"median records/s: before {medians['before']:.1f}, after {medians['after']:.1f}; "
          f"ratio after/before {summary['after_over_before']:.3f}")
    return summary


if __name__ == "__main__":
    main()
