#!/usr/bin/env python
"""Score ECG files with a run folder or an export:
``python scripts/predict.py --model RUN_OR_EXPORT --input FILES_OR_DIRS... [--out preds.jsonl]``.

Inputs are records (.hea, .mat, .npy) or printout images (PNG/JPEG scans and photos of any
ECG printout: read and digitised, see ``--image-input``).

Writes one JSON line per file (record id, per-class probabilities and decisions). A file that
cannot be scored prints one ``error: FILE: reason`` line and gets an ``error`` row; the others are
still scored, and the exit code is 2 when any failed.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.atomic import replacing
    from ecgtf.serving.predictor import IMAGE_INPUTS, load_predictor, score_files

    p = argparse.ArgumentParser(description="Score WFDB (.hea), challenge (.mat + .hea) and .npy records.")
    p.add_argument("--model", required=True, help="run folder (train.py) or export (export.py: a version folder "
                                                  "or the model folder holding versions)")
    p.add_argument("--input", nargs="+", required=True, help="files or folders of records")
    p.add_argument("--out", help="JSON lines file (default: stdout)")
    p.add_argument("--npy-rate", type=float, help="sampling rate of .npy inputs in Hz (default: the model's)")
    p.add_argument("--image-input", choices=IMAGE_INPUTS, default="digitize",
                   help="images (scans, photos, renders of any printout): 'digitize' reads the page into a 12-lead "
                        "signal for any model (an image model sees it redrawn in its run's look); 'as-is' gives an "
                        "image model the file's pixels (the run's own renders)")
    args = p.parse_args(argv)

    predictor = load_predictor(args.model)
    rows, failures = score_files(predictor, args.input, npy_rate=args.npy_rate, image_input=args.image_input,
                                 say=lambda line: print(line, file=sys.stderr))
    lines = [json.dumps(row) for row in rows + failures]
    if args.out:
        with replacing(args.out) as tmp, open(tmp, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        print(f"wrote {len(rows)} prediction(s) to {args.out}", file=sys.stderr)
    else:
        print("\n".join(lines))
    if failures:
        raise ValueError(f"{len(failures)} of {len(rows) + len(failures)} file(s) could not be scored "
                         "(see the error lines above)")
    return rows


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    raise SystemExit(run_cli(main))
