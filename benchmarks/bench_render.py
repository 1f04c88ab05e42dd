"""Printout renderer speed: OpenCV against matplotlib, PNG encode/decode and ``render.py -j``.

Usage:
    python benchmarks/bench_render.py --data-dir ../shared/data/ptbxl --n 200 \
        [--layouts 3x4 3x4_rhythm stack lead] [--out benchmarks/results/render_speed.json]

For each layout, renders the same ``n`` PTB-XL records with both renderers at the same size,
without PNG encoding, alternating record by record so that both see the same machine load,
and reports seconds per image and the matplotlib/OpenCV ratio. Then, separately: the PNG
encode and decode rates of the OpenCV images, the ``default`` photo augmentation rate, and
``render_dataset`` (what ``scripts/render.py`` runs) with ``-j 1`` and ``-j 2`` in images/s,
worker start-up and PNG writing included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def compare_renderers(signals, rate, leads, layout, style) -> dict:
    """Seconds per image of both renderers on the same records, interleaved."""
    from ecgtf.render import mpl_renderer, opencv_renderer

    opencv_renderer.render_printout(signals[0], rate, leads, layout, style)  # warm-up (grid cache)
    mpl_renderer.render_printout(signals[0], rate, leads, layout, style)
    t_cv = t_mpl = 0.0
    images, shape = [], None
    for sig in signals:
        t0 = time.perf_counter()
        img = opencv_renderer.render_printout(sig, rate, leads, layout, style)
        t1 = time.perf_counter()
        ref = mpl_renderer.render_printout(sig, rate, leads, layout, style)
        t2 = time.perf_counter()
        t_cv, t_mpl = t_cv + (t1 - t0), t_mpl + (t2 - t1)
        if img.shape != ref.shape:
            raise AssertionError(f"{layout}: OpenCV {img.shape} and matplotlib {ref.shape} differ in size")
        shape = img.shape
        images.append(img)
    n = len(signals)
    return {"image_shape": list(shape), "opencv_s_per_image": t_cv / n, "matplotlib_s_per_image": t_mpl / n,
            "opencv_images_per_s": n / t_cv, "matplotlib_images_per_s": n / t_mpl,
            "opencv_speedup": t_mpl / t_cv}, images


def png_rates(images) -> dict:
    """PNG encode/decode images/s and size: render.py's settings and OpenCV's defaults, interleaved."""
    import cv2

    from ecgtf.render.png import PNG_PARAMS

    times = {"render_py": [0.0, 0.0, []], "opencv_default": [0.0, 0.0, []]}
    for img in images:
        bgr = np.ascontiguousarray(img[..., ::-1])
        for name, params in (("render_py", list(PNG_PARAMS)), ("opencv_default", [])):
            t0 = time.perf_counter()
            blob = cv2.imencode(".png", bgr, params)[1]
            t1 = time.perf_counter()
            cv2.imdecode(blob, cv2.IMREAD_COLOR)
            t2 = time.perf_counter()
            times[name][0] += t1 - t0
            times[name][1] += t2 - t1
            times[name][2].append(blob.nbytes)
    n = len(images)
    return {name: {"encode_images_per_s": n / enc, "decode_images_per_s": n / dec,
                   "kb_mean": float(np.mean(sizes) / 1024)} for name, (enc, dec, sizes) in times.items()}


def augment_rate(images) -> float:
    from ecgtf.render.photo import augment_photo, get_preset

    cfg = get_preset("default")
    augment_photo(images[0], cfg, 0)
    t0 = time.perf_counter()
    for i, img in enumerate(images):
        augment_photo(img, cfg, i)
    return len(images) / (time.perf_counter() - t0)


def render_py_rates(data, n: int, layout: str, jobs_list) -> dict:
    from ecgtf.render.batch import RenderConfig, render_dataset

    out = {}
    for jobs in jobs_list:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            summary = render_dataset(data, tmp, RenderConfig(layout=layout, jobs=jobs, limit=n), progress=False)
            wall = time.perf_counter() - t0
        out[f"j{jobs}"] = {"images": summary.rendered, "images_per_s": summary.images_per_s,
                           "steady_images_per_s_after_first": summary.steady_images_per_s,
                           "first_image_s": summary.first_image_s, "seconds": summary.seconds,
                           "wall_s_with_manifest": wall}
    return out


def main(argv=None):
    from ecgtf.atomic import replacing
    from ecgtf.data.datasets import load_dataset
    from ecgtf.render.paper import LAYOUTS, PaperStyle

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", required=True, help="the PTB-XL folder")
    p.add_argument("--n", type=int, default=200, help="records rendered")
    p.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    p.add_argument("--dpi", type=float, default=100.0)
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="render.py -j values measured")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "render_speed.json"))
    args = p.parse_args(argv)

    data = load_dataset("ptbxl", args.data_dir, progress=False)
    n = min(args.n, len(data))
    signals = [np.asarray(data.signal(i)) for i in range(n)]
    style = PaperStyle(dpi=args.dpi)
    result = {"command": "python benchmarks/bench_render.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "records": n, "dataset": "ptbxl", "sampling_rate": data.sampling_rate, "dpi": args.dpi,
              "cpus": os.cpu_count(), "load_avg_at_start": list(os.getloadavg()), "python": platform.python_version(),
              "layouts": {}}
    first_images = None
    for layout in args.layouts:
        stats, images = compare_renderers(signals, data.sampling_rate, data.lead_names, layout, style)
        result["layouts"][layout] = stats
        print(f"{layout:11s} {stats['image_shape']}: OpenCV {1000 * stats['opencv_s_per_image']:.1f} ms, "
              f"matplotlib {1000 * stats['matplotlib_s_per_image']:.1f} ms per image -> "
              f"{stats['opencv_speedup']:.0f}x", flush=True)
        if first_images is None:
            first_images, first_layout = images, layout
    result["png"] = {"layout": first_layout, **png_rates(first_images)}
    result["augment_default_images_per_s"] = augment_rate(first_images)
    result["render_py"] = {"layout": first_layout, **render_py_rates(data, n, first_layout, args.jobs)}
    result["load_avg_at_end"] = list(os.getloadavg())
    print(json.dumps({k: result[k] for k in ("png", "augment_default_images_per_s", "render_py")}, indent=1))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with replacing(args.out) as tmp, open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
