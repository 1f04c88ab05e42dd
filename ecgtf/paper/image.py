"""Reading a printout image: any size, PNG or JPEG, grey, RGB or RGBA (alpha over white paper)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from ecgtf.paper.errors import PageReadError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
#: Pages smaller than this (pixels, either side) hold too little to read.
MIN_SIDE_PX = 200


def is_image_file(path: str) -> bool:
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as ``(H, W, 3)`` uint8 RGB: grey is repeated, an alpha channel is composited
    over white (a transparent PNG is paper with nothing on it), 16-bit is scaled down."""
    arr = np.asarray(image)
    if arr.dtype == np.uint16:
        arr = (arr / 257.0).round().astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(np.asarray(arr, np.float64) * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255
                      ).round().astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise PageReadError("load", f"an image must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (arr[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    if min(arr.shape[:2]) < MIN_SIDE_PX:
        raise PageReadError("load", f"the image is {arr.shape[1]}x{arr.shape[0]} px; a printout needs at least "
                                    f"{MIN_SIDE_PX} px on each side")
    return np.ascontiguousarray(arr)


def load_image(path: str) -> np.ndarray:
    """The image file at ``path`` as uint8 RGB (see :func:`as_rgb`).

    Raises:
        PageReadError: missing, unreadable or too small (step ``load``).
    """
    if not os.path.isfile(path):
        raise PageReadError("load", f"no such file {path}")
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise PageReadError("load", f"{path} is not a readable image (PNG, JPEG, TIFF, BMP or WebP)")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return as_rgb(img)
