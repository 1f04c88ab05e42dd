#!/usr/bin/env python
"""Grad-CAM for a trained run: ``python scripts/gradcam.py --run RUN_DIR --input REC --out x.png``.

``--input`` is a WFDB record (with or without ``.hea``), a ``.npy`` array ``(samples, leads)``
in mV at the run's rate (or an ``(H, W, C)`` image for image models), a record id of the run's
dataset, or a folder of records / ``.npy`` files: then ``--out`` is a folder that receives one
PNG per input and an ``index.html`` gallery.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


def main(argv=None):
    from ecgtf.explain.gallery import explain_folder, explain_one, load_explainer
    from ecgtf.explain.gradcam import METHODS

    p = argparse.ArgumentParser(description="Draw Grad-CAM / saliency heatmaps of a run's model.")
    p.add_argument("--run", required=True, help="run folder written by train.py (config.yaml + model.keras)")
    p.add_argument("--input", required=True, help="WFDB record, .npy file, record id, or a folder of them")
    p.add_argument("--class", dest="class_name", help="class to explain (default: the predicted class)")
    p.add_argument("--method", choices=list(METHODS), default="gradcam")
    p.add_argument("--out", required=True, help="PNG path, or a folder when --input is a folder")
    p.add_argument("--member", type=int, help="for an ensemble folder: explain its K-th member's model "
                                              "(default: the mean of the members' heatmaps)")
    args = p.parse_args(argv)

    explainer = load_explainer(args.run, args.member)
    if os.path.isdir(args.input):
        rows = explain_folder(explainer, args.input, args.out, class_name=args.class_name, method=args.method)
        print(f"wrote {len(rows)} PNGs and {os.path.join(args.out, 'index.html')}")
        return rows
    row = explain_one(explainer, args.input, args.out, class_name=args.class_name, method=args.method)
    print(f"{row['record_id']}: predicted {row['predicted']} (p={row['probability']:.2f}); "
          f"{row['method']} for {row['explained']} -> {row['png']}")
    return row


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
