#!/usr/bin/env python
"""Digitise ECG printouts (scans, photos, renders):
``python scripts/digitize.py --input IMAGES_OR_DIRS --out DIR [-j N] [--rate HZ]``.

Writes one WFDB record per image (named by its stem; 12 leads in mV, NaN where the page does not
show a lead), ``manifest.jsonl`` (what the page reader found on each page: angle, px/mm, layout,
panels, confidence) and ``overlays/STEM.png``. A rerun skips finished pages; a page that cannot
be read prints ``error: IMAGE: step: reason`` and the others go on (exit code 2 at the end).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    from ecgtf.paper.batch import digitize_images

    p = argparse.ArgumentParser(description="Digitise ECG printout images into 12-lead WFDB records.")
    p.add_argument("--input", nargs="+", required=True, help="image files or folders of images")
    p.add_argument("--out", required=True, help="output folder (records, manifest.jsonl, overlays/)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="pages read in parallel (processes)")
    p.add_argument("--rate", type=float, default=500.0, help="sampling rate of the records in Hz (default 500)")
    p.add_argument("--no-overlay", action="store_true", help="do not write overlays/STEM.png")
    args = p.parse_args(argv)
    if args.jobs < 1:
        raise ValueError(f"-j must be >= 1, got {args.jobs}")
    if not args.rate > 0:
        raise ValueError(f"--rate must be > 0, got {args.rate}")
    rows = digitize_images(args.input, args.out, sampling_rate=args.rate, jobs=args.jobs,
                           overlay=not args.no_overlay, say=lambda line: print(line, file=sys.stderr))
    failed = [r for r in rows if r.get("error")]
    print(f"digitised {len(rows) - len(failed)} page(s) into {args.out}"
          + (f"; {len(failed)} could not be read" if failed else ""), file=sys.stderr)
    if failed:
        raise ValueError(f"{len(failed)} of {len(rows)} page(s) could not be read (see the error lines above)")
    return rows


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    raise SystemExit(run_cli(main))
