#!/usr/bin/env python
"""Export a run as a TF Serving SavedModel:
``python scripts/export.py --run RUN_DIR --out DIR [--version N] [--name NAME]``."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.serving.export import export_run

    p = argparse.ArgumentParser(description="Write DIR/<name>/<version>/: a SavedModel taking raw mV signals, "
                                            "with a README on serving it.")
    p.add_argument("--run", required=True, help="run folder written by train.py")
    p.add_argument("--out", required=True, help="model base folder (TF Serving layout)")
    p.add_argument("--version", type=int, help="version number (default: the next free one)")
    p.add_argument("--name", help="model name (default: <model>_<task>)")
    args = p.parse_args(argv)
    path = export_run(args.run, args.out, version=args.version, name=args.name)
    print(f"wrote {path} (see its README.md)")
    return path


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    raise SystemExit(run_cli(main))
