"""Writes a synthetic ECG dataset in the on-disk layout of PTB-XL, CinC 2017 or CinC 2020.

Example:
    python scripts/make_synthetic.py --layout cinc2017 --n 200 --out /tmp/cinc2017 --seed 0
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ecgtf.data.synthetic_layouts import DEFAULT_N, WRITERS, write_synthetic  # noqa: E402


def main(argv=None) -> str:
    """Parses the arguments, writes the records and prints what was written.

    Returns:
        The output folder.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", required=True, choices=list(WRITERS))
    parser.add_argument("--n", type=int, default=None, help="number of records (default: per layout, %s)" % DEFAULT_N)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    n = DEFAULT_N[args.layout] if args.n is None else args.n
    start = time.perf_counter()
    out = write_synthetic(args.layout, args.out, n, seed=args.seed, progress=not args.no_progress)
    files = sum(len(names) for _, _, names in os.walk(out))
    print(f"wrote {n} synthetic {args.layout} records ({files} files) to {out} "
          f"in {time.perf_counter() - start:.1f} s")
    return out


if __name__ == "__main__":
    main()
