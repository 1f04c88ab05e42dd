"""Rendering a dataset to a folder of PNGs (``scripts/render.py``), resumably, in worker processes.

Each PNG is written to ``<name>.partial.png`` and renamed when complete
(:func:`ecgtf.atomic.replacing`), so a killed run leaves only whole PNGs; a new run over the
same folder deletes leftover partial files, skips the PNGs that exist and renders the rest.
The folder's files are described in :mod:`ecgtf.render.manifest`.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import multiprocessing
import os
import time

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ecgtf.atomic import replacing
from ecgtf.render import manifest as mf
from ecgtf.render.paper import PaperStyle, dpi_for_width, get_layout, plan_page
from ecgtf.render import worker
from ecgtf.render.photo import get_preset

FORMAT_VERSION = 1


@dataclasses.dataclass
class RenderConfig:
    """How a dataset is rendered.

    Attributes:
        layout: a key of :data:`ecgtf.render.paper.LAYOUTS`.
        augment: photo augmentation preset (:data:`ecgtf.render.photo.PRESETS`), seeded per record.
        dpi: pixels per inch (ignored when ``width_px`` is given).
        width_px: page width in pixels (sets the dpi; for ``stack`` and ``lead`` of a 10 s record).
        grid: ``red``, ``grey`` or ``none``.
        line_width_px: trace width in pixels.
        seed: augmentation seed (each record's comes from it and its record id).
        jobs: worker processes (1: in this process).
        limit: render only the first ``limit`` records of the task (None: all).
    """

    layout: str = "3x4"
    augment: str = "none"
    dpi: float = 100.0
    width_px: int | None = None
    grid: str = "red"
    line_width_px: int = 1
    seed: int = 0
    jobs: int = 1
    limit: int | None = None

    def style(self) -> PaperStyle:
        dpi = dpi_for_width(self.layout, self.width_px) if self.width_px else self.dpi
        return PaperStyle(dpi=dpi, grid=self.grid, line_width_px=self.line_width_px)


@dataclasses.dataclass
class RenderSummary:
    """What one :func:`render_dataset` call did.

    Attributes:
        total: images the folder should hold.
        rendered: images written by this call.
        already_done: images found finished and skipped.
        failed: records that could not be rendered (listed in ``skipped.csv``).
        seconds: wall time of the rendering (not the data loading), worker start-up included.
        first_image_s: seconds until the first image was done (mostly worker start-up with ``-j``).
    """

    total: int
    rendered: int
    already_done: int
    failed: int
    seconds: float
    first_image_s: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.rendered / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_images_per_s(self) -> float:
        """Images/s after the first one (start-up left out)."""
        rest = self.seconds - self.first_image_s
        return (self.rendered - 1) / rest if self.rendered > 1 and rest > 0 else self.images_per_s


def image_name(record_id: str) -> str:
    """The PNG's name for ``record_id`` (path separators and dots made safe)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(record_id))
    return f"{safe}.png"


def settings_of(data, cfg: RenderConfig) -> dict:
    """What decides a folder's pixels and labels (``render.json``); a resumed run must match it."""
    return {
        "version": FORMAT_VERSION, "dataset": data.name, "data_dir": data.data_dir, "task": data.task.name,
        "task_kind": data.task.kind, "classes": list(data.task.classes), "class_names": list(data.task.output_names),
        "sampling_rate": float(data.sampling_rate), "signal_filter": data.store.info.get("filter", "none"),
        "lead_names": list(data.lead_names), "layout": cfg.layout, "style": dataclasses.asdict(cfg.style()),
        "augment": cfg.augment, "augment_config": dataclasses.asdict(get_preset(cfg.augment)), "seed": int(cfg.seed),
    }


def json_roundtrip(value):
    return json.loads(json.dumps(value))


def check_settings(out: str, settings: dict) -> None:
    """Raises when ``out`` already holds a render made with other settings."""
    if not os.path.isfile(os.path.join(out, mf.SETTINGS_FILE)):
        return
    old = mf.read_settings(out)
    new = json_roundtrip(settings)
    differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if differ:
        raise ValueError(f"{out!r} holds a render made with other settings ({', '.join(differ)} changed); "
                         "give another --out to render these settings")


# ---- driver ------------------------------------------------------------------------------

def _label_frame(data, rows: np.ndarray) -> pd.DataFrame:
    task = data.task
    y = data.labels[rows]
    if task.kind == "binary":
        names = [task.classes[int(v)] for v in y[:, 0]]
    else:
        names = [";".join(c for c, v in zip(task.classes, r) if v) for r in y]
    frame = pd.DataFrame({"record_id": data.meta["record_id"].iloc[rows].astype(str).to_numpy(), "labels": names})
    for j, name in enumerate(task.output_names):
        frame[f"{mf.LABEL_PREFIX}{name}"] = y[:, j].astype(int)
    if "fold" in data.meta:
        frame["fold"] = data.meta["fold"].iloc[rows].to_numpy()
    return frame


def render_dataset(data, out: str, cfg: RenderConfig = RenderConfig(), progress: bool = True) -> RenderSummary:
    """Renders every record of ``data`` (a :class:`ecgtf.data.datasets.LoadedData`) into ``out``.

    Writes ``images/*.png``, ``manifest.csv``, ``skipped.csv`` and ``render.json`` (see
    :mod:`ecgtf.render.manifest`). Resumable: PNGs that exist are kept and skipped.

    ``ecgtf.render`` imports nothing from ``ecgtf.data`` (whose image inputs draw with it):
    ``data`` is used through its attributes; worker processes (:mod:`ecgtf.render.worker`)
    open the store's memory-mapped signals by file name.

    Raises:
        ValueError: the layout does not fit the dataset's leads, or ``out`` holds a render
            made with other settings.
    """
    style = cfg.style()
    layout = get_layout(cfg.layout)
    get_preset(cfg.augment)  # an unknown preset fails here, once
    if cfg.jobs < 1:
        raise ValueError(f"-j/--jobs must be >= 1, got {cfg.jobs}")
    if cfg.limit is not None and cfg.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {cfg.limit}")
    try:  # a layout that needs absent leads fails here, once
        plan_page(layout, data.lead_names, 10.0, style)
    except ValueError as err:
        raise ValueError(f"layout {cfg.layout} cannot be drawn from {data.name}'s leads: {err}; "
                         "the stack and lead layouts take any leads") from None
    settings = settings_of(data, cfg)
    check_settings(out, settings)
    images = os.path.join(out, mf.IMAGES_DIR)
    os.makedirs(images, exist_ok=True)
    mf.write_settings(out, settings)
    for leftover in glob.glob(os.path.join(images, "*.partial.png")):
        os.remove(leftover)

    rows = np.arange(len(data) if cfg.limit is None else min(cfg.limit, len(data)))
    ids = data.meta["record_id"].astype(str).to_numpy()
    paths = {int(r): os.path.join(images, image_name(ids[r])) for r in rows}
    offsets = data.store.records["offset"].to_numpy(np.int64)[data.positions]
    lengths = data.store.records["length"].to_numpy(np.int64)[data.positions]
    todo = [(int(offsets[r]), int(lengths[r]), ids[r], paths[int(r)]) for r in rows
            if not os.path.isfile(paths[int(r)])]
    done_before = len(rows) - len(todo)

    failures = {}
    start = time.perf_counter()
    first = None
    signals = data.store.signals
    init_args = (signals, data.sampling_rate, data.lead_names, layout, style, cfg.augment, cfg.seed)
    bar = tqdm(total=len(todo), desc=f"rendering {cfg.layout}", unit="img", disable=not progress, mininterval=1.0)
    if cfg.jobs == 1 or len(todo) <= 1:
        worker.init(*init_args)
        results = map(worker.render_one, todo)
        pool = None
    else:
        ctx = multiprocessing.get_context("spawn")  # no fork of a parent that may hold TF threads
        mapped = (signals.filename, signals.dtype.str, signals.shape)  # workers open the memory map themselves
        pool = ctx.Pool(cfg.jobs, initializer=worker.init, initargs=(mapped, *init_args[1:], os.getpid()))
        results = pool.imap_unordered(worker.render_one, todo, chunksize=max(1, min(16, len(todo) // (cfg.jobs * 8))))
    try:
        for record_id, reason in results:
            if reason:
                failures[record_id] = reason
            first = first if first is not None else time.perf_counter() - start
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()
    seconds = time.perf_counter() - start

    finished = np.array([os.path.isfile(paths[int(r)]) for r in rows], dtype=bool)
    frame = _label_frame(data, rows[finished])
    frame["path"] = [os.path.join(mf.IMAGES_DIR, os.path.basename(paths[int(r)])) for r in rows[finished]]
    mf.write_manifest(out, frame)
    failed = pd.DataFrame({"dataset": data.name, "record_id": list(failures), "reason": list(failures.values())})
    skipped = pd.concat([data.skipped, failed], ignore_index=True)
    with replacing(os.path.join(out, mf.SKIPPED_FILE)) as tmp:
        skipped.to_csv(tmp, index=False)
    return RenderSummary(total=len(rows), rendered=len(todo) - len(failures), already_done=done_before,
                         failed=len(failures), seconds=seconds, first_image_s=first or 0.0)
