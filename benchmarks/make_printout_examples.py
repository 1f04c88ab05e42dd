"""The README's printout examples: one PTB-XL record in each layout, as rendered and as a photo.

Usage:
    python benchmarks/make_printout_examples.py --data-dir ../shared/data/ptbxl \
        [--layouts 3x4 3x4_rhythm stack lead] [--augments none default] [--out docs/images]

Writes ``printout_<layout>_<augment>.png`` per pair (the ``lead`` layout's 12 images tiled
3 x 4), reduced to a 64-colour palette to keep the README light (the renderer's own output
is full RGB). The record is the first MI record of ``mi_vs_norm``; ``--record-id`` picks
another.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

HERE = os.path.dirname(os.path.abspath(__file__))
#: dpi per layout, small enough for the README (each PNG under 150 KB).
DPI = {"3x4": 72, "3x4_rhythm": 72, "stack": 50, "lead": 36}
SEED = 3


def example(signal, rate, leads, layout: str, augment: str) -> np.ndarray:
    """One example image (uint8 RGB)."""
    from ecgtf.render.opencv_renderer import render_leads, render_printout
    from ecgtf.render.paper import PaperStyle
    from ecgtf.render.photo import augment_photo, get_preset

    style = PaperStyle(dpi=DPI[layout])
    cfg = get_preset(augment)
    if layout == "lead":
        images = [augment_photo(img, cfg, SEED + i) for i, img in enumerate(render_leads(signal, rate, leads, style))]
        rows = [np.concatenate(images[r * 4:(r + 1) * 4], axis=1) for r in range(len(images) // 4)]
        return np.concatenate(rows, axis=0)
    return augment_photo(render_printout(signal, rate, leads, layout, style), cfg, SEED)


def save_small_png(path: str, image: np.ndarray, colors: int = 64) -> None:
    """``image`` as a palette PNG of ``colors`` colours (no dithering), written through a rename."""
    from PIL import Image

    from ecgtf.atomic import replacing

    small = Image.fromarray(image).quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with replacing(path) as tmp:
        small.save(tmp, "PNG", optimize=True)


def main(argv=None):
    from ecgtf.data.datasets import load_dataset
    from ecgtf.render.paper import LAYOUTS
    from ecgtf.render.photo import PRESETS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="the PTB-XL folder")
    p.add_argument("--record-id", help="record to draw (default: the first MI record)")
    p.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    p.add_argument("--augments", nargs="+", default=["none", "default"], choices=list(PRESETS))
    p.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "docs", "images")))
    args = p.parse_args(argv)

    data = load_dataset("ptbxl", args.data_dir, task="mi_vs_norm", progress=False)
    ids = data.meta["record_id"].astype(str).to_numpy()
    i = int(np.flatnonzero(ids == args.record_id)[0]) if args.record_id else int(np.flatnonzero(data.labels[:, 0])[0])
    os.makedirs(args.out, exist_ok=True)
    for layout in args.layouts:
        for augment in args.augments:
            path = os.path.join(args.out, f"printout_{layout}_{augment}.png")
            save_small_png(path, example(data.signal(i), data.sampling_rate, data.lead_names, layout, augment))
            print(f"record {ids[i]} -> {path} ({os.path.getsize(path) // 1024} KB)")


if __name__ == "__main__":
    main()
