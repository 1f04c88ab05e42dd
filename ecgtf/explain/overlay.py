"""Drawing Grad-CAM heatmaps over what the model saw (matplotlib, Agg backend).

Three layouts, one per input kind:

* :func:`plot_raw`: the leads stacked on one amplitude scale over a single colour
  band (the heatmap over time, the same for every lead, drawn once), with an optional
  bar per lead for per-lead scores such as lead attributions.
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


#: Colour map of the time heatmap behind the raw traces: white at 0, orange at 1 (the
#: darkest tones of "Oranges" are left out so the black traces stay readable on top).
RAW_CMAP = matplotlib.colors.ListedColormap(plt.get_cmap("Oranges")(np.linspace(0.0, 0.75, 256)), name="raw_heat")
RAW_ALPHA = 0.7
#: Bar colours of lead attributions: towards the explained class, away from it.
TOWARDS, AWAY = "#c0392b", "#2e6fb5"


def _lead_spacing(signal_mv: np.ndarray) -> float:
    """Vertical distance between stacked leads: the widest lead's 0.5-99.5 % range (mV)."""
    lo, hi = np.nanpercentile(signal_mv, [0.5, 99.5], axis=0)
    widest = float(np.nanmax(hi - lo)) if signal_mv.size else 0.0
    return max(widest * 1.1, 0.5) if np.isfinite(widest) else 1.0


def _scale_bar_mv(spacing: float) -> float:
    """A round amplitude (mV) for the scale bar, at most about half a lead's spacing."""
    for value in (5.0, 2.0, 1.0, 0.5, 0.2, 0.1):
        if value <= 0.6 * spacing:
            return value
    return 0.1


def plot_raw(signal_mv: np.ndarray, heatmap: np.ndarray, sampling_rate: float, path: str, *,
             lead_names=None, title: str = "", dpi: int = 100, lead_scores=None,
             lead_scores_label: str = "lead attribution\n(+ towards the class)") -> str:
    """Stacked lead traces over one heatmap background, with optional per-lead scores.

    The leads are drawn top to bottom on one common amplitude scale (a scale bar gives
    the mV), over a single colour band: the time heatmap (e.g. Grad-CAM), drawn once
    behind the whole stack since it is the same for every lead. ``lead_scores`` (e.g.
    :func:`ecgtf.explain.gradcam.lead_attribution`) adds a bar per lead, left of its
    trace, with the value printed: red pushes towards the explained class, blue away.

    Args:
        signal_mv: ``(samples, leads)`` in mV (the window the model saw, before standardising).
        heatmap: ``(samples,)`` in [0, 1], stretched over the window's duration.
        sampling_rate: Hz.
        path: PNG to write.
        lead_names: one name per lead (default ``lead 1..n``).
        title: figure title.
        dpi: resolution.
        lead_scores: optional ``(leads,)`` signed score per lead.
        lead_scores_label: axis label of the lead-score bars.

    Returns:
        ``path``.

    Raises:
        ValueError: ``signal_mv`` is not ``(samples, leads)``, or ``lead_names`` /
            ``lead_scores`` do not have one entry per lead.
    """
    signal_mv = np.asarray(signal_mv, np.float32)
    if signal_mv.ndim == 1:
        signal_mv = signal_mv[:, None]
    if signal_mv.ndim != 2:
        raise ValueError(f"signal_mv must be (samples, leads), got {signal_mv.shape}")
    samples, leads = signal_mv.shape
    names = list(lead_names) if lead_names is not None else [f"lead {i + 1}" for i in range(leads)]
    if len(names) != leads:
        raise ValueError(f"{len(names)} lead names for {leads} leads")
    scores = None
    if lead_scores is not None:
        scores = np.asarray(lead_scores, np.float64).reshape(-1)
        if scores.shape != (leads,):
            raise ValueError(f"lead_scores must have one value per lead ({leads}), got shape {scores.shape}")
    duration = samples / float(sampling_rate)
    t = np.arange(samples) / float(sampling_rate)
    spacing = _lead_spacing(signal_mv)
    offsets = -spacing * np.arange(leads)                 # lead 0 on top
    centred = signal_mv - np.nanmedian(signal_mv, axis=0)
    y_lo, y_hi = offsets[-1] - 0.5 * spacing, offsets[0] + 0.5 * spacing

    columns = ([1.6] if scores is not None else []) + [10.0]
    fig = plt.figure(figsize=(12.5 if scores is not None else 11.0, max(2.6, 1.0 + 0.55 * leads)), layout="constrained")
    grid = fig.add_gridspec(1, len(columns), width_ratios=columns, wspace=0.01)
    ax = fig.add_subplot(grid[0, -1])
    band = ax.imshow(np.asarray(heatmap, np.float32).reshape(1, -1), aspect="auto", cmap=RAW_CMAP,
                     alpha=RAW_ALPHA, vmin=0, vmax=1, extent=(0.0, duration, y_lo, y_hi),
                     interpolation="bilinear", zorder=0)
    for i in range(leads):
        ax.plot(t, centred[:, i] + offsets[i], color="black", linewidth=0.6, zorder=2)
    ax.set_xlim(0.0, duration)
    ax.set_ylim(y_lo, y_hi)
    ax.set_yticks(offsets, names, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="0.6", linewidth=0.4, alpha=0.6, zorder=1)
    ax.set_xlabel("time (s)", fontsize=9)
    bar_mv = _scale_bar_mv(spacing)
    x_bar = duration * 1.005
    ax.plot([x_bar, x_bar], [y_lo + 0.1 * spacing, y_lo + 0.1 * spacing + bar_mv], color="black", linewidth=2,
            clip_on=False, solid_capstyle="butt")
    ax.text(x_bar + duration * 0.004, y_lo + 0.1 * spacing + bar_mv / 2, f"{bar_mv:g} mV", fontsize=7,
            va="center", ha="left", rotation=90)
    if scores is not None:
        bars = fig.add_subplot(grid[0, 0], sharey=ax)
        colours = [TOWARDS if v >= 0 else AWAY for v in scores]
        bars.barh(offsets, scores, height=0.6 * spacing, color=colours)
        bars.axvline(0.0, color="black", linewidth=0.6)
        peak = float(np.nanmax(np.abs(scores))) if np.any(np.isfinite(scores)) else 0.0
        peak = peak if peak > 0 else 1.0
        bars.set_xlim(-1.9 * peak if scores.min() < 0 else -0.15 * peak,
                      1.9 * peak if scores.max() > 0 else 0.15 * peak)
        for y, v in zip(offsets, scores):
            bars.text(v + (0.06 * peak if v >= 0 else -0.06 * peak), y, f"{v:+.2g}", fontsize=7, va="center",
                      ha="left" if v >= 0 else "right")
        bars.tick_params(axis="y", length=0, labelleft=True, labelsize=8)
        ax.tick_params(axis="y", labelleft=False)   # the names stand left of the bars
        bars.tick_params(axis="x", labelsize=7)
        bars.set_xlabel(lead_scores_label, fontsize=9)
        for side in ("top", "right", "left"):
            bars.spines[side].set_visible(False)
    fig.colorbar(band, ax=ax, fraction=0.02, pad=0.03, shrink=0.6 if leads >= 4 else 1.0, aspect=30,
                 label="heatmap (time)")
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
