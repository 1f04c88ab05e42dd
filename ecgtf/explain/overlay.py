"""Drawing Grad-CAM heatmaps over what the model saw (matplotlib, Agg backend).

Three layouts, one per input kind:

* :func:`plot_raw`: each lead's trace with a colour band under it showing the
  heatmap over time (12 leads give 12 rows).
* :func:`plot_spectrogram`: the raw trace on top, the spectrogram with the heatmap
  below, sharing the time axis in seconds (the image columns map linearly onto the
  window; rows are frequency, high at the top).
* :func:`plot_image`: the heatmap alpha-blended over the image, with a colorbar.

Each function writes a PNG and returns its path.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CMAP = "jet"
ALPHA = 0.45


def _save(fig, path: str, dpi: int) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _display(image: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` model input scaled to [0, 1] for display (gray for C != 3)."""
    img = np.asarray(image, np.float32)
    if img.ndim == 3 and img.shape[-1] != 3:
        img = img.mean(axis=-1)
    lo, hi = float(img.min()), float(img.max())
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def plot_raw(signal_mv: np.ndarray, heatmap: np.ndarray, sampling_rate: float, path: str, *,
             lead_names=None, title: str = "", dpi: int = 100) -> str:
    """Traces with a heatmap band under each lead.

    Args:
        signal_mv: ``(samples, leads)`` in mV (the window the model saw, before standardising).
        heatmap: ``(samples,)`` in [0, 1].
        sampling_rate: Hz.
        path: PNG to write.
        lead_names: one name per lead (default ``lead 1..n``).
        title: figure title.
        dpi: resolution.

    Returns:
        ``path``.
    """
    signal_mv = np.asarray(signal_mv, np.float32)
    samples, leads = signal_mv.shape
    names = list(lead_names) if lead_names is not None else [f"lead {i + 1}" for i in range(leads)]
    t = np.arange(samples) / float(sampling_rate)
    extent = (0.0, samples / float(sampling_rate), 0.0, 1.0)
    fig, axes = plt.subplots(2 * leads, 1, sharex=True, figsize=(11, 0.35 + 1.25 * leads),
                             gridspec_kw={"height_ratios": [4, 1] * leads, "hspace": 0.08})
    axes = np.atleast_1d(axes)
    band = None
    for i in range(leads):
        ax, strip = axes[2 * i], axes[2 * i + 1]
        ax.plot(t, signal_mv[:, i], color="black", linewidth=0.7)
        ax.set_ylabel(f"{names[i]}\nmV", fontsize=8)
        ax.tick_params(labelsize=7)
        band = strip.imshow(np.asarray(heatmap, np.float32)[None, :], aspect="auto", cmap=CMAP, vmin=0, vmax=1,
                            extent=extent, interpolation="nearest")
        strip.set_yticks([])
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(extent[0], extent[1])
    fig.colorbar(band, ax=list(axes), fraction=0.015, pad=0.01, label="heatmap")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path, dpi)


def plot_spectrogram(signal_mv: np.ndarray, image: np.ndarray, heatmap: np.ndarray, sampling_rate: float,
                     path: str, *, max_freq_hz: float, lead_names=None, title: str = "", dpi: int = 100) -> str:
    """Raw trace on top, spectrogram image with the heatmap below, on one time axis.

    Args:
        signal_mv: ``(samples, leads)`` in mV; every lead is drawn (thin lines).
        image: ``(H, W, C)`` spectrogram image the model saw (rows: frequency, high on top).
        heatmap: ``(H, W)`` in [0, 1].
        sampling_rate: Hz.
        path: PNG to write.
        max_freq_hz: frequency of the top image row (Hz).
        lead_names: lead names for the legend.
        title: figure title.
        dpi: resolution.

    Returns:
        ``path``.
    """
    signal_mv = np.asarray(signal_mv, np.float32)
    samples, leads = signal_mv.shape
    duration = samples / float(sampling_rate)
    t = np.arange(samples) / float(sampling_rate)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6),
                                      gridspec_kw={"height_ratios": [1, 2], "hspace": 0.08})
    names = list(lead_names) if lead_names is not None else [f"lead {i + 1}" for i in range(leads)]
    for i in range(leads):
        top.plot(t, signal_mv[:, i], linewidth=0.7, label=names[i])
    if 1 < leads <= 3:
        top.legend(fontsize=7, loc="upper right")
    top.set_ylabel("mV")
    extent = (0.0, duration, 0.0, float(max_freq_hz))
    bottom.imshow(_display(image), aspect="auto", cmap="gray", extent=extent)
    shown = bottom.imshow(np.asarray(heatmap, np.float32), aspect="auto", cmap=CMAP, alpha=ALPHA, vmin=0, vmax=1,
                          extent=extent)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("frequency (Hz)")
    bottom.set_xlim(0.0, duration)
    fig.colorbar(shown, ax=[top, bottom], fraction=0.025, pad=0.01, label="heatmap")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path, dpi)


def plot_image(image: np.ndarray, heatmap: np.ndarray, path: str, *, title: str = "", dpi: int = 100) -> str:
    """Heatmap alpha-blended over an image.

    Args:
        image: ``(H, W, C)`` model input (any range; scaled for display).
        heatmap: ``(H, W)`` in [0, 1].
        path: PNG to write.
        title: figure title.
        dpi: resolution.

    Returns:
        ``path``.
    """
    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / max(image.shape[1], 1) + 0.6))
    ax.imshow(_display(image), cmap="gray")
    shown = ax.imshow(np.asarray(heatmap, np.float32), cmap=CMAP, alpha=ALPHA, vmin=0, vmax=1)
    ax.set_axis_off()
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02, label="heatmap")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path, dpi)
