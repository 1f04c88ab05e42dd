"""Digitising many printouts (``scripts/digitize.py``): one WFDB record per image, a manifest of
what the page reader found, and an overlay picture per page.

Records are named by the image's stem (``00008_lr-0.png`` -> ``00008_lr-0.hea/.dat``), hold the
12 standard leads in mV at the chosen rate (NaN where the page does not show a lead), and are
written atomically; a rerun skips pages whose record exists. A page that cannot be read is named
with the reason (one line) and the others go on.
"""

from __future__ import annotations

import json
import os
import re
import time

import numpy as np

from ecgtf.paper.digitize import digitize_reading
from ecgtf.paper.errors import PageReadError
from ecgtf.paper.image import is_image_file
from ecgtf.paper.layout import LEAD_NAMES
from ecgtf.paper.reader import read_page

MANIFEST = "manifest.jsonl"
OVERLAY_DIR = "overlays"


def find_images(paths) -> list[str]:
    """Image files among ``paths`` (files, or folders searched recursively), sorted.

    Raises:
        FileNotFoundError: a path does not exist, or nothing is an image (one line).
    """
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                found += [os.path.join(root, f) for f in files if is_image_file(f)]
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise FileNotFoundError(f"--input {path!r} does not exist")
    images = sorted(set(found))
    if not images:
        raise FileNotFoundError("no PNG/JPEG/TIFF/BMP/WebP image among --input " + " ".join(map(str, paths)))
    return images


def record_name(path: str) -> str:
    """The record name of an image: its stem, with characters WFDB names cannot hold (anything
    but letters, digits, ``_`` and ``-``) replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", os.path.splitext(os.path.basename(path))[0])


def write_nan_record(directory: str, name: str, signal_mv: np.ndarray, sampling_rate: float) -> str:
    """Writes ``signal_mv`` (NaN where not shown) as WFDB format 16 at 1000 units per mV; NaN is
    the format's missing value (-32768), which wfdb reads back as NaN."""
    import wfdb

    digital = np.where(np.isnan(signal_mv), -32768, np.clip(np.round(np.nan_to_num(signal_mv) * 1000.0),
                                                             -32767, 32767)).astype(np.int64)
    tmp = f"tmp{os.getpid()}_{name}"
    wfdb.wrsamp(tmp, fs=float(sampling_rate), units=["mV"] * digital.shape[1], sig_name=list(LEAD_NAMES),
                d_signal=digital, fmt=["16"] * digital.shape[1], adc_gain=[1000.0] * digital.shape[1],
                baseline=[0] * digital.shape[1], write_dir=directory,
                comments=["digitised from a printout by ecgtf (NaN: lead not shown on the page)"])
    with open(os.path.join(directory, tmp + ".hea")) as f:
        header = f.read().replace(tmp, name)
    os.replace(os.path.join(directory, tmp + ".dat"), os.path.join(directory, name + ".dat"))
    with open(os.path.join(directory, tmp + ".hea"), "w") as f:
        f.write(header)
    os.replace(os.path.join(directory, tmp + ".hea"), os.path.join(directory, name + ".hea"))
    return os.path.join(directory, name)


def digitize_file(path: str, out_dir: str, sampling_rate: float, overlay: bool = True) -> dict:
    """Reads, digitises and writes one page; returns its manifest row (``error`` when refused)."""
    import cv2

    name = record_name(path)
    t0 = time.perf_counter()
    try:
        reading = read_page(path)
    except PageReadError as err:
        return {"image": path, "record": None, "error": str(err), "seconds": round(time.perf_counter() - t0, 3)}
    signal = digitize_reading(reading, sampling_rate)
    write_nan_record(out_dir, name, signal, sampling_rate)
    row = {"image": path, "record": name, "sampling_rate": float(sampling_rate),
           "leads_shown": [lead for lead, col in zip(LEAD_NAMES, signal.T) if not np.isnan(col).all()],
           "page": reading.describe(), "seconds": round(time.perf_counter() - t0, 3)}
    if overlay:
        from ecgtf.paper.overlay import overlay_image

        os.makedirs(os.path.join(out_dir, OVERLAY_DIR), exist_ok=True)
        cv2.imwrite(os.path.join(out_dir, OVERLAY_DIR, name + ".png"),
                    cv2.cvtColor(overlay_image(reading), cv2.COLOR_RGB2BGR))
    return row


def _work(args):
    path, out_dir, rate, overlay = args
    return digitize_file(path, out_dir, rate, overlay)


def digitize_images(paths, out_dir: str, *, sampling_rate: float = 500.0, jobs: int = 1, overlay: bool = True,
                    say=print) -> list[dict]:
    """Digitises every image among ``paths`` into ``out_dir``; returns the manifest rows of this run.

    Pages whose record exists in ``out_dir`` are skipped. Rows are appended to ``manifest.jsonl``
    as pages finish, so an interrupted run loses nothing it finished.
    """
    from tqdm import tqdm

    images = find_images(paths)
    os.makedirs(out_dir, exist_ok=True)
    names = {}
    for path in images:
        name = record_name(path)
        if name in names:
            raise ValueError(f"two images would write record {name}: {names[name]} and {path}")
        names[name] = path
    todo = [p for p in images if not os.path.isfile(os.path.join(out_dir, record_name(p) + ".hea"))]
    if len(todo) < len(images):
        say(f"{len(images) - len(todo)} of {len(images)} page(s) already digitised in {out_dir}: skipped")
    rows = []
    manifest = os.path.join(out_dir, MANIFEST)
    tasks = [(p, out_dir, sampling_rate, overlay) for p in todo]
    if jobs > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = pool.map(_work, tasks, chunksize=1)
            rows = _collect(results, len(tasks), manifest, say, tqdm)
    else:
        rows = _collect(map(_work, tasks), len(tasks), manifest, say, tqdm)
    return rows


def _collect(results, total, manifest, say, tqdm) -> list[dict]:
    rows = []
    with open(manifest, "a") as f:
        for row in tqdm(results, total=total, desc="digitising", unit="page", disable=total < 2):
            if row.get("error"):
                say(f"error: {row['image']}: {row['error']}")
            f.write(json.dumps(row) + "\n")
            f.flush()
            rows.append(row)
    return rows
