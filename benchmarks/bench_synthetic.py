#!/usr/bin/env python
"""Speed of the synthetic ECG generator (``ecgtf.data.synthetic.synthesize_ecg``), best of N seeds.

    python benchmarks/bench_synthetic.py            # ms per record: 60 s single-lead AF at 300 Hz,
                                                    # 10 s 12-lead normal at 500 Hz

It was a timed test (< 50 ms each) until a loaded CI machine made it flaky; speed is a
benchmark's job. Report a ratio when comparing versions: the shared machine varies by ±10 %.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ecgtf.data.synthetic import LEADS_12, synthesize_ecg  # noqa: E402

CASES = {"af_1lead_300hz_60s": ({"af"}, 300, 60, ("ECG",)),
         "normal_12lead_500hz_10s": ({"normal"}, 500, 10, LEADS_12)}


def best_ms(args, repeats: int) -> float:
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        synthesize_ecg(*args, rng=seed)
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5, help="seeds timed per case (the best is reported)")
    args = p.parse_args(argv)
    result = {name: round(best_ms(case, args.repeats), 1) for name, case in CASES.items()}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
