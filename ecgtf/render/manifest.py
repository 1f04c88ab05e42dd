"""A rendered folder: its files, and reading them back.

A folder written by :func:`ecgtf.render.batch.render_dataset` (``scripts/render.py``) holds::

    render.json    what was rendered and how (dataset, task, class names, layout, style, augment)
    manifest.csv   one row per image: record_id, labels, y_<class>..., fold, path (relative)
    skipped.csv    records left out, with the reason (dataset, record_id, reason)
    images/        one PNG per record (the ``lead`` layout: the per-lead images one above the other)
"""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pandas as pd

from ecgtf.atomic import replacing

SETTINGS_FILE = "render.json"
MANIFEST_FILE = "manifest.csv"
SKIPPED_FILE = "skipped.csv"
IMAGES_DIR = "images"
LABEL_PREFIX = "y_"


def _need(folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {name} in {folder!r}: not a finished rendered folder "
                                "(scripts/render.py writes it, and finishes an interrupted one when run again)")
    return path


def read_settings(folder: str) -> dict:
    """``render.json`` of a rendered folder."""
    with open(_need(folder, SETTINGS_FILE)) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{os.path.join(folder, SETTINGS_FILE)} is not valid JSON ({err})") from None


def write_settings(folder: str, settings: dict) -> None:
    with replacing(os.path.join(folder, SETTINGS_FILE)) as tmp, open(tmp, "w") as f:
        json.dump(settings, f, indent=2)


def read_manifest(folder: str) -> pd.DataFrame:
    """The images of a rendered folder.

    Returns:
        DataFrame with ``record_id`` (str), ``labels`` (class names joined by ``;``), one int
        ``y_<name>`` column per model output (the task's multi-hot or one-hot labels; a binary
        task has one), ``fold`` (when the dataset has folds) and ``path`` (absolute).
    """
    df = pd.read_csv(_need(folder, MANIFEST_FILE), dtype={"record_id": str, "labels": str}, keep_default_na=False)
    df["path"] = [os.path.join(os.path.abspath(folder), p) for p in df["path"]]
    return df


def write_manifest(folder: str, frame: pd.DataFrame) -> None:
    with replacing(os.path.join(folder, MANIFEST_FILE)) as tmp:
        frame.to_csv(tmp, index=False)


def label_columns(frame: pd.DataFrame) -> list[str]:
    """The ``y_<name>`` columns of a manifest, in the task's output order."""
    return [c for c in frame.columns if c.startswith(LABEL_PREFIX)]


def manifest_labels(frame: pd.DataFrame) -> np.ndarray:
    """The labels of a manifest as ``(N, outputs)`` int8, as :class:`LoadedData` ``.labels``."""
    return frame[label_columns(frame)].to_numpy(np.int8)


def load_image(path: str, n_leads: int | None = None) -> np.ndarray:
    """A rendered PNG as uint8 RGB ``(H, W, 3)``; with ``n_leads`` (``lead`` layout) split
    into ``(n_leads, H / n_leads, W, 3)``."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"{path!r} is missing or not a readable image")
    img = img[..., ::-1]
    if n_leads:
        if img.shape[0] % n_leads:
            raise ValueError(f"{path!r} is {img.shape[0]} px high, not {n_leads} lead images of one height")
        img = img.reshape(n_leads, img.shape[0] // n_leads, *img.shape[1:])
    return np.ascontiguousarray(img)
