#!/usr/bin/env python
"""Render a dataset's records as paper printouts::

    python scripts/render.py --dataset ptbxl --data-dir ../shared/data/ptbxl --task mi_vs_norm \
        --layout 3x4 --out DIR -j 2

Writes ``DIR/images/*.png``, ``manifest.csv`` (record_id, labels, y_<class>..., fold, path),
``skipped.csv`` (records left out, with the reason) and ``render.json`` (the settings).
Resumable: run the same command again after a kill and it renders only what is missing.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main(argv=None):
    from ecgtf.data.datasets import DATASETS, load_dataset
    from ecgtf.data.transforms import FILTERS
    from ecgtf.render.batch import RenderConfig, render_dataset
    from ecgtf.render.paper import GRID_COLORS, LAYOUTS
    from ecgtf.render.photo import PRESETS

    p = argparse.ArgumentParser(description="Render ECG records as paper printouts (PNG) with a manifest.")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--data-dir", help="the dataset folder (not needed for synthetic)")
    p.add_argument("--task", help="task whose labels go in the manifest (the dataset's default when omitted)")
    p.add_argument("--layout", choices=list(LAYOUTS), default="3x4")
    p.add_argument("--out", required=True, help="output folder (an interrupted one is completed)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--augment", choices=list(PRESETS), default="none", help="photo augmentation preset")
    p.add_argument("--dpi", type=float, default=100.0, help="pixels per inch (100: 3.94 px/mm)")
    p.add_argument("--width-px", type=int, help="page width in pixels instead of --dpi")
    p.add_argument("--grid", choices=list(GRID_COLORS), default="red")
    p.add_argument("--line-width", type=int, default=1, help="trace width in pixels")
    p.add_argument("--limit", type=int, help="render only the first N records of the task")
    p.add_argument("--seed", type=int, default=0, help="augmentation seed")
    p.add_argument("--sampling-rate", type=float, help="Hz to resample to (default: the dataset's own)")
    p.add_argument("--signal-filter", choices=list(FILTERS), default="none")
    p.add_argument("--cache-dir", help="decoded-record cache (default $ECGTF_CACHE or ~/.cache/ecgtf)")
    p.add_argument("--synthetic-n", type=int, help="number of synthetic records")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)

    data = load_dataset(args.dataset, args.data_dir, task=args.task, sampling_rate=args.sampling_rate,
                        cache_root=args.cache_dir, signal_filter=args.signal_filter, synthetic_n=args.synthetic_n,
                        progress=not args.no_progress)
    cfg = RenderConfig(layout=args.layout, augment=args.augment, dpi=args.dpi, width_px=args.width_px,
                       grid=args.grid, line_width_px=args.line_width, seed=args.seed, jobs=args.jobs,
                       limit=args.limit)
    summary = render_dataset(data, args.out, cfg, progress=not args.no_progress)
    print(f"{summary.total} images in {args.out}: {summary.rendered} rendered "
          f"({summary.images_per_s:.1f} img/s with -j {args.jobs}, the first after {summary.first_image_s:.1f} s), "
          f"{summary.already_done} already done, {summary.failed} failed; {len(data.skipped)} records skipped at load "
          f"(reasons in {os.path.join(args.out, 'skipped.csv')})")
    return summary


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    raise SystemExit(run_cli(main))
