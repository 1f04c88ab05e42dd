#!/usr/bin/env python
"""Screenshot a Grad-CAM gallery in headless Chromium and check it is not blank.

``python benchmarks/bench_gallery_screenshot.py [--gallery DIR] [--out shot.png]``

Without ``--gallery`` a small gallery is built first: a tiny untrained ``compact1d`` run
folder and three synthetic 2-lead records in a temporary folder, explained with
:func:`ecgtf.explain.gallery.explain_folder`. The screenshot's pixel standard deviation
(0-255 scale) must exceed ``--min-std``.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """The first of ``BROWSERS`` on ``PATH``, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def build_gallery(root: str) -> str:
    """A 3-record gallery from a tiny untrained raw run under ``root``; returns its folder."""
    import keras
    import numpy as np

    from ecgtf import config as cfglib
    from ecgtf.config import TrainConfig
    from ecgtf.data.wfdb_io import write_record
    from ecgtf.explain.gallery import explain_folder, load_explainer
    from ecgtf.models.registry import get_model

    keras.utils.set_random_seed(0)
    rate, seconds = 100.0, 4.0
    run_dir = os.path.join(root, "run")
    cfglib.save(TrainConfig(model="compact1d", sampling_rate=rate, duration_s=seconds, standardize=True),
                os.path.join(run_dir, "config.yaml"))
    get_model("compact1d", (int(rate * seconds), 2), 1, filters=(8, 8), stem_filters=8).save(
        os.path.join(run_dir, "model.keras"))
    t = np.arange(int(rate * 5)) / rate
    for i in range(3):
        sig = np.stack([np.sin(2 * np.pi * (1 + i) * t), np.cos(2 * np.pi * 2 * t)], axis=1).astype(np.float32)
        write_record(os.path.join(root, "inputs"), f"rec{i}", sig, rate, ["I", "II"])
    out = os.path.join(root, "gallery")
    explain_folder(load_explainer(run_dir), os.path.join(root, "inputs"), out)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gallery", help="folder holding index.html (default: build a small one)")
    p.add_argument("--out", default="gallery_screenshot.png", help="screenshot PNG")
    p.add_argument("--min-std", type=float, default=5.0, help="least pixel std (0-255) of a non-blank page")
    args = p.parse_args(argv)

    browser = find_browser()
    if browser is None:
        print(f"no headless browser found: none of {', '.join(BROWSERS)} is on PATH; install chromium to run this")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        gallery = args.gallery or build_gallery(tmp)
        built = time.perf_counter() - start
        index = os.path.abspath(os.path.join(gallery, "index.html"))
        if not os.path.isfile(index):
            raise FileNotFoundError(f"no index.html in {gallery!r}")
        out = os.path.abspath(args.out)
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={out}",
               "--window-size=1280,900", "file://" + index]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        shot = time.perf_counter() - start

    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(out)[..., :3] * 255.0
    std, mean = float(pixels.std()), float(pixels.mean())
    print(f"gallery {'given' if args.gallery else f'built in {built:.1f} s'}; screenshot {shot:.1f} s -> {out}")
    print(f"screenshot {pixels.shape[1]}x{pixels.shape[0]} px: mean {mean:.1f}, std {std:.1f} (min {args.min_std})")
    if std <= args.min_std:
        raise SystemExit(f"the screenshot looks blank (pixel std {std:.1f} <= {args.min_std})")
    return {"std": std, "mean": mean, "seconds": shot}


if __name__ == "__main__":
    main()
