#!/usr/bin/env python
"""Per dataset: record counts per class, skipped records with reasons, first and cached load time.

    python benchmarks/bench_data.py --data-root ../shared/data
    python benchmarks/bench_data.py --datasets synthetic     # works offline on any machine

The first load decodes every WFDB record into a fresh cache folder (a temporary one
unless ``--cache-dir`` is given); the second load reads that cache back, after checking the size
and modification time of every header and signal file (the cache key).
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# dataset -> (folder under --data-root, task, sampling rate in Hz)
PLANS = {
    "ptbxl": ("ptbxl", "superdiagnostic", 100),
    "cinc2017": ("cinc2017", "af4", 300),
    "cinc2020": ("cinc2020", "scored27", 500),
    "synthetic": (None, "af4", None),
}


def bench(dataset: str, data_root: str, cache_dir: str) -> dict:
    from ecgtf.data.datasets import load_dataset

    folder, task, rate = PLANS[dataset]
    data_dir = os.path.join(data_root, folder) if folder else None
    first = load_dataset(dataset, data_dir, task=task, sampling_rate=rate, cache_root=cache_dir, progress=False)
    second = load_dataset(dataset, data_dir, task=task, sampling_rate=rate, cache_root=cache_dir, progress=False)
    assert second.from_cache, "the second load did not come from the cache"
    import time

    from ecgtf.data.datasets import make_reader, source_signature

    frame = make_reader(second.name, second.data_dir, rate).index()[0]
    start = time.perf_counter()
    source_signature(frame)  # the cache check: stat every header and signal file
    check_s = time.perf_counter() - start
    return {"check_s": check_s, "dataset": dataset, "task": task, "records": len(first), "decoded": len(first.store), "rate_hz": first.sampling_rate,
            "counts": first.class_counts(), "skipped": first.skipped, "warnings": first.warnings, "first_s": first.load_seconds,
            "cached_s": second.load_seconds, "from_cache_first": first.from_cache}


def report(r: dict) -> None:
    print(f"\n== {r['dataset']} (task {r['task']}, {r['rate_hz']:g} Hz): {r['decoded']} records decoded, "
          f"{r['records']} labelled for the task")
    for name, n in r["counts"].items():
        print(f"   {name:>12s}: {n}")
    skipped = r["skipped"]
    print(f"   skipped: {len(skipped)}")
    for row in skipped.itertuples(index=False):
        print(f"     {row.record_id}: {row.reason}")
    print(f"   kept with warnings: {len(r['warnings'])}")
    for row in r["warnings"].itertuples(index=False):
        print(f"     {row.record_id}: {row.reason}")
    note = " (store already existed)" if r["from_cache_first"] else ""
    print(f"   load time: first {r['first_s']:.2f} s{note}, cached {r['cached_s']:.2f} s "
          f"(of which {r['check_s']:.2f} s checking every source file's size and mtime)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", default=os.path.join("..", "shared", "data"),
                   help="folder holding ptbxl/, cinc2017/, cinc2020/")
    p.add_argument("--datasets", nargs="+", default=["ptbxl", "cinc2017", "cinc2020"], choices=list(PLANS))
    p.add_argument("--cache-dir", help="cache root (default: a fresh temporary folder, so the first load is cold)")
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            r = bench(dataset, args.data_root, args.cache_dir or tmp)
            report(r)
            results.append(r)
    return results


if __name__ == "__main__":
    main()
