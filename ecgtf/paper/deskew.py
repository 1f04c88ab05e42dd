"""Finding the page's rotation: the angle at which its lines (grid lines, trace baselines, text
rows) line up with the image axes.

A rotated page smears its lines across many image rows; turned straight, the row and column
profiles of its ink become sharp. The angle that maximises their sharpness (the energy of the
profiles' first differences) is searched coarse to fine, on a reduced copy of the page.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The search covers +-MAX_ANGLE_DEG.
MAX_ANGLE_DEG = 15.0
WORK_SIDE_PX = 1000


def rotate(image: np.ndarray, angle_deg: float, border=255, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """``image`` turned by ``angle_deg`` (counter-clockwise) about its centre, same size; what
    comes in at the corners is ``border``."""
    if abs(angle_deg) < 1e-6:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), float(angle_deg), 1.0)
    value = border if np.isscalar(border) else tuple(float(b) for b in border)
    return cv2.warpAffine(image, m, (w, h), flags=interpolation, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=value)


def _sharpness(ink: np.ndarray, angle: float) -> float:
    turned = rotate(ink, angle, border=0)
    h, w = turned.shape
    # Only the middle of the page: turned corners carry no ink and would favour small angles.
    core = turned[h // 8: h - h // 8, w // 8: w - w // 8]
    rows = core.mean(axis=1)
    cols = core.mean(axis=0)
    return float(np.sum(np.diff(rows) ** 2) + np.sum(np.diff(cols) ** 2))


def estimate_angle(ink: np.ndarray, max_deg: float = MAX_ANGLE_DEG) -> tuple[float, float]:
    """``(angle_deg, confidence)``: the rotation that straightens ``ink`` (float image, ink high).

    ``confidence`` is 1 minus the ratio of the best sharpness away from the chosen angle
    (beyond 2 degrees) to the chosen one's: near 1 when one angle stands out.
    """
    h, w = ink.shape
    scale = min(1.0, WORK_SIDE_PX / max(h, w))
    small = cv2.resize(ink.astype(np.float32), (max(int(w * scale), 8), max(int(h * scale), 8)),
                       interpolation=cv2.INTER_AREA) if scale < 1 else ink.astype(np.float32)
    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.5)
    scores = np.array([_sharpness(small, a) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    fine_scores = np.array([_sharpness(small, a) for a in fine])
    angle = float(fine[int(np.argmax(fine_scores))])
    top = float(fine_scores.max())
    away = scores[np.abs(coarse - angle) > 2.0]
    confidence = 1.0 - float(away.max()) / top if len(away) and top > 0 else 0.0
    return angle, max(0.0, min(1.0, confidence))
