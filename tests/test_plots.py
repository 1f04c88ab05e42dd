"""Tests for ecgtf.evaluation.plots: files exist and hold real pictures."""

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from ecgtf.data.tasks import Task
from ecgtf.evaluation.plots import (
    confusion_matrix_figure,
    plot_confusion_matrix,
    plot_multilabel_confusion,
    plot_roc,
    plot_training_curves,
)


def _assert_picture(path, min_side=200):
    image = mpimg.imread(str(path))
    assert image.ndim == 3 and min(image.shape[:2]) >= min_side
    assert image[..., :3].std() > 0.02  # not a blank canvas
    return image


def test_plot_confusion_matrix(tmp_path):
    cm = np.array([[50, 3, 2, 1], [4, 20, 1, 0], [6, 2, 30, 2], [1, 0, 2, 5]])
    out = plot_confusion_matrix(cm, ["N", "A", "O", "~"], str(tmp_path / "sub" / "cm.png"), title="af4")
    assert out == str(tmp_path / "sub" / "cm.png")
    _assert_picture(out)


def test_plot_confusion_matrix_multilabel_grid(tmp_path):
    cms = np.array([[[5, 1], [2, 4]], [[7, 0], [1, 4]], [[3, 3], [3, 3]]])
    _assert_picture(plot_confusion_matrix(cms, ["NORM", "MI", "STTC"], str(tmp_path / "ml.png")))
    _assert_picture(plot_multilabel_confusion(cms, ["NORM", "MI", "STTC"], str(tmp_path / "ml2.png")))
    with pytest.raises(ValueError, match="2, 2"):
        plot_multilabel_confusion(np.eye(3), ["a", "b", "c"], str(tmp_path / "bad.png"))


def test_confusion_matrix_figure_is_rgb():
    image = confusion_matrix_figure(np.array([[3, 1], [0, 4]]), ["neg", "pos"])
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] > 150 and image.shape[1] > 150
    assert image.std() > 5


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_plot_roc(tmp_path, kind):
    rng = np.random.default_rng(0)
    if kind == "binary":
        task = Task("mi", ("other", "MI"), "binary", "auc")
        y = (rng.random((40, 1)) < 0.5).astype(int)
    else:
        task = Task("superdiagnostic", ("NORM", "MI", "STTC"), "multilabel", "macro_auc")
        y = (rng.random((40, 3)) < 0.4).astype(int)
        y[:, 2] = 0  # a class without positives is listed, not a crash
    p = np.clip(0.4 * y + 0.6 * rng.random(y.shape), 0, 1)
    _assert_picture(plot_roc(task, y, p, str(tmp_path / "roc.png")))


def test_plot_training_curves_from_csv(tmp_path):
    history = pd.DataFrame({"epoch": range(5), "loss": np.linspace(1, 0.4, 5), "val_loss": np.linspace(1.1, 0.6, 5),
                            "auc": np.linspace(0.6, 0.9, 5), "val_auc": np.linspace(0.55, 0.85, 5),
                            "val_f1": np.linspace(0.3, 0.6, 5)})
    csv = tmp_path / "history.csv"
    history.to_csv(csv, index=False)
    _assert_picture(plot_training_curves(str(csv), str(tmp_path / "curves.png")))
    _assert_picture(plot_training_curves(history, str(tmp_path / "curves_df.png")))
    with pytest.raises(ValueError, match="no loss"):
        plot_training_curves(pd.DataFrame({"epoch": [0]}), str(tmp_path / "none.png"))
