"""Evaluation figures: confusion matrices, ROC curves, reliability diagrams and training curves (PNGs).

Drawn on matplotlib ``Figure`` objects with the Agg canvas (no pyplot state, no
display needed) and seaborn. Each
``plot_*`` function writes one file and returns its path; :func:`confusion_matrix_figure`
returns the picture as an RGB array for callbacks (TensorBoard, wandb).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from ecgtf.atomic import replacing

_DPI = 100


def _figure(figsize, nrows=1, ncols=1):
    """A pyplot-free Agg figure (no global state, nothing to close) and its axes."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _save(fig, path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with replacing(path) as tmp:  # never a half-drawn file
        fig.savefig(tmp, dpi=_DPI, bbox_inches="tight")
    return path


def _heatmap(ax, cm, class_names, normalize: bool, title, cbar: bool = True, fontsize: int = 9):
    cm = np.asarray(cm, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    annot = np.array([[f"{int(round(cm[i, j]))}\n{100 * share[i, j]:.0f}%" for j in range(cm.shape[1])]
                      for i in range(cm.shape[0])])
    sns.heatmap(share if normalize else cm, annot=annot, fmt="", cmap="Blues", cbar=cbar, ax=ax,
                vmin=0, vmax=1 if normalize else None, xticklabels=class_names, yticklabels=class_names,
                annot_kws={"fontsize": fontsize}, square=True, linewidths=0.5, linecolor="white")
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    if title:
        ax.set_title(title)


def _confusion_figure(cm, class_names, normalize: bool = True, title=None):
    """A (C, C) matrix becomes one annotated heatmap; a (C, 2, 2) stack of per-class
    multilabel matrices becomes a grid of small 2×2 heatmaps (absent/present)."""
    cm = np.asarray(cm)
    if cm.ndim == 3:
        n = cm.shape[0]
        ncols = min(n, 6)
        nrows = math.ceil(n / ncols)
        fig, axes = _figure((2.4 * ncols, 2.4 * nrows + 0.4), nrows, ncols)
        for k, ax in enumerate(axes.flat):
            if k >= n:
                ax.axis("off")
                continue
            _heatmap(ax, cm[k], ["no", "yes"], normalize, str(class_names[k]), cbar=False, fontsize=8)
            ax.set_xlabel("predicted", fontsize=8)
            ax.set_ylabel("reference", fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return fig
    size = max(4.0, 0.7 * cm.shape[0] + 2.5)
    fig, axes = _figure((size + 1.0, size))
    ax = axes[0, 0]
    _heatmap(ax, cm, class_names, normalize, title or "Confusion matrix (colour: row share)")
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, class_names, path: str, normalize: bool = True, title: str | None = None) -> str:
    """Annotated confusion-matrix heatmap; each cell shows the count and the row percentage.

    Args:
        cm: ``(C, C)`` counts (rows = reference, columns = prediction), or ``(C, 2, 2)``
            per-class multilabel matrices (drawn as a grid of 2×2 panels).
        class_names: ``C`` names.
        path: output PNG path (folders are created).
        normalize: colour by the row share (True) or by the count.
        title: figure title.

    Returns:
        ``path``.
    """
    return _save(_confusion_figure(cm, class_names, normalize, title), path)


def plot_multilabel_confusion(cms, class_names, path: str, normalize: bool = True, title: str | None = None) -> str:
    """Per-class 2×2 multilabel confusion matrices (absent/present) as a grid of panels.

    Args:
        cms: ``(C, 2, 2)`` as ``sklearn.metrics.multilabel_confusion_matrix``
            (``[[tn, fp], [fn, tp]]`` per class).
        class_names: ``C`` panel titles.
        path: output PNG path.
        normalize: colour by the row share (True) or by the count.
        title: figure title.

    Returns:
        ``path``.
    """
    cms = np.asarray(cms)
    if cms.ndim != 3 or cms.shape[1:] != (2, 2):
        raise ValueError(f"expected (classes, 2, 2) matrices, got shape {cms.shape}")
    return plot_confusion_matrix(cms, class_names, path, normalize, title)


def confusion_matrix_figure(cm, class_names, normalize: bool = True, title: str | None = None) -> np.ndarray:
    """The :func:`plot_confusion_matrix` picture as an image.

    Returns:
        uint8 RGB array ``(height, width, 3)``.
    """
    fig = _confusion_figure(cm, class_names, normalize, title)
    fig.set_dpi(_DPI)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    return image


def plot_roc(task, y_true, y_prob, path: str, thresholds=None) -> str:
    """ROC curves, one per output, with the AUC in the legend and the operating point of the
    decisions (``thresholds``; argmax for multiclass) marked with its sensitivity and specificity.

    Args:
        task: an :class:`ecgtf.data.tasks.Task` (gives the output names).
        y_true: labels ``(N, 1)``/``(N, C)`` (multiclass: one-hot or indices ``(N,)``).
        y_prob: probabilities ``(N, outputs)``.
        path: output PNG path.
        thresholds: the run's decision thresholds (binary/multilabel; None means 0.5).

    Returns:
        ``path``. Outputs whose labels hold a single class are listed as "n/a".
    """
    from ecgtf.evaluation.thresholds import apply_thresholds

    y_prob = np.asarray(y_prob, dtype=float).reshape(len(y_prob), -1)
    y_true = np.asarray(y_true)
    if task.kind == "multiclass" and y_true.ndim == 1:
        y_true = np.eye(y_prob.shape[1], dtype=int)[y_true.astype(int)]
    y_true = (y_true.reshape(len(y_prob), -1) > 0.5).astype(int)
    names = task.output_names
    operating_points = sensitivity_specificity(y_true, apply_thresholds(task, y_prob, thresholds))
    many = len(names) > 10
    fig, axes = _figure((9.5, 6.5) if many else (6.5, 6))
    ax = axes[0, 0]
    colours = sns.color_palette("tab20" if many else "tab10", len(names))
    for c, name in enumerate(names):
        if y_true[:, c].min() == y_true[:, c].max():
            ax.plot([], [], color=colours[c], label=f"{name} (AUC n/a)")
            continue
        fpr, tpr, _ = roc_curve(y_true[:, c], y_prob[:, c])
        sens, spec = operating_points[c]
        ax.plot(fpr, tpr, color=colours[c], lw=1.5,
                label=f"{name} (AUC {roc_auc_score(y_true[:, c], y_prob[:, c]):.3f}; "
                      f"sens {sens:.2f}, spec {spec:.2f})")
        ax.plot([1 - spec], [sens], marker="o", ms=7, mec="black", color=colours[c], ls="none")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate (1 - specificity)",
           ylabel="true positive rate (sensitivity)", title=f"ROC: {task.name} (dots: the decisions' operating points)")
    if many:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, ncol=1 if len(names) <= 30 else 2)
    else:
        ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def sensitivity_specificity(y_true, decisions) -> list[tuple[float, float]]:
    """``(sensitivity, specificity)`` of each output's 0/1 ``decisions`` ``(N, outputs)``."""
    y_true = np.asarray(y_true).reshape(len(decisions), -1) > 0.5
    decisions = np.asarray(decisions).reshape(len(decisions), -1) > 0.5
    out = []
    for c in range(decisions.shape[1]):
        t, d = y_true[:, c], decisions[:, c]
        sens = (t & d).sum() / t.sum() if t.any() else float("nan")
        spec = (~t & ~d).sum() / (~t).sum() if (~t).any() else float("nan")
        out.append((float(sens), float(spec)))
    return out


def plot_reliability(task, y_true, y_prob, path: str, n_bins: int = 10) -> str:
    """Reliability diagram: observed frequency against mean probability per bin, one curve per
    output with its expected calibration error, and the records per bin underneath.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        y_true: labels ``(N, outputs)`` (multiclass: one-hot or indices).
        y_prob: probabilities ``(N, outputs)``.
        path: output PNG path.
        n_bins: equal-width probability bins.

    Returns:
        ``path``.
    """
    from ecgtf.evaluation.calibration import calibration_report, reliability_curves

    curves = reliability_curves(task, y_true, y_prob, n_bins)
    ece = calibration_report(task, y_true, y_prob, n_bins)["ece"]
    many = len(curves) > 10
    fig = Figure(figsize=(9.5, 7.5) if many else (6.5, 7))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    colours = sns.color_palette("tab20" if many else "tab10", len(curves))
    width = 1.0 / n_bins / (len(curves) + 1)
    for c, (name, (mean_prob, freq, count)) in enumerate(curves.items()):
        top.plot(mean_prob, freq, marker="o", ms=4, color=colours[c], label=f"{name} (ECE {ece[name]:.3f})")
        bottom.bar(mean_prob + (c - len(curves) / 2) * width, count, width=width, color=colours[c])
    top.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfectly calibrated")
    top.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="observed frequency", title=f"Reliability: {task.name}")
    top.legend(loc="upper left", fontsize=8, ncol=2 if many else 1)
    top.grid(alpha=0.3)
    bottom.set(xlabel="predicted probability", ylabel="records")
    bottom.set_yscale("log")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_training_curves(history, path: str) -> str:
    """Loss and each validation score over epochs, one panel each.

    Args:
        history: a Keras ``CSVLogger`` file path or a DataFrame with an ``epoch``
            column (optional) and ``loss``/``val_*`` columns.
        path: output PNG path.

    Returns:
        ``path``. The loss panel shows ``loss`` and ``val_loss``; every other
        ``val_<key>`` panel also shows the training ``<key>`` when logged.
    """
    frame = pd.read_csv(history) if isinstance(history, (str, os.PathLike)) else pd.DataFrame(history)
    epochs = frame["epoch"] + 1 if "epoch" in frame else pd.Series(range(1, len(frame) + 1))
    panels = [("loss", [c for c in ("loss", "val_loss") if c in frame])]
    panels += [(c[4:], [k for k in (c[4:], c) if k in frame]) for c in frame.columns
               if c.startswith("val_") and c != "val_loss" and pd.api.types.is_numeric_dtype(frame[c])]
    panels = [p for p in panels if p[1]]
    if not panels:
        raise ValueError(f"no loss or val_* columns in the history: {list(frame.columns)}")
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = _figure((4.5 * ncols, 3.3 * nrows), nrows, ncols)
    for ax, (title, columns) in zip(axes.flat, panels):
        for col in columns:
            ax.plot(epochs, frame[col], marker="o", ms=3, label="validation" if col.startswith("val_") else "training")
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)
