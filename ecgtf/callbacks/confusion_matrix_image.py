"""Confusion-matrix pictures of the validation set each epoch (PNG, TensorBoard, wandb)."""

from __future__ import annotations

import importlib.util
import os

import keras
import numpy as np

from ecgtf.callbacks.wandb_logger import active_wandb
from ecgtf.evaluation.plots import confusion_matrix_figure


def _write_tensorboard_image(writer, tag: str, image: np.ndarray, step: int) -> None:
    """``tf.summary.image``; without the tensorboard package (which it needs), writes
    the same image-plugin record (``[width, height, png]`` strings) with ``tf.summary.write``."""
    import tensorflow as tf

    with writer.as_default():
        if importlib.util.find_spec("tensorboard") is not None:
            tf.summary.image(tag, image[None], step=step)
        else:
            from tensorflow.core.framework import summary_pb2

            png = tf.io.encode_png(image)
            tensor = tf.stack([tf.as_string(image.shape[1]), tf.as_string(image.shape[0]), png])
            metadata = summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images"))
            tf.summary.write(tag, tensor, step=step, metadata=metadata)
    writer.flush()


class ConfusionMatrixImage(keras.callbacks.Callback):
    """Draws the validation confusion matrix from a :class:`ValidationScores` callback.

    Each scored epoch ``E`` (1-based) writes ``out_dir/confusion_matrix_epoch{E:03d}.png``
    and overwrites ``out_dir/confusion_matrix.png`` with the latest. Multiclass and
    binary tasks get one annotated C×C heatmap (count and row %); multilabel tasks
    get a grid of per-class 2×2 matrices (absent/present, reference × prediction).

    Args:
        scores_callback: the :class:`ecgtf.callbacks.ValidationScores` placed before this
            one in the callback list.
        class_names: names for the matrix axes (``task.classes``); binary tasks use
            them for the two rows/columns, multilabel tasks as panel titles.
        out_dir: folder for the PNG files (created).
        tensorboard_dir: if given, also logs the image (tag ``confusion_matrix``) with
            ``tf.summary`` into this folder.
        use_wandb: also ``wandb.log({"confusion_matrix": wandb.Image(...)})`` when a
            wandb run is active and ``WANDB_MODE`` is not ``disabled``.
    """

    def __init__(self, scores_callback, class_names, out_dir: str, tensorboard_dir: str | None = None,
                 use_wandb: bool = False):
        super().__init__()
        self.scores_callback = scores_callback
        self.class_names = list(class_names)
        self.out_dir = out_dir
        self.tensorboard_dir = tensorboard_dir
        self.use_wandb = use_wandb
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        scores = self.scores_callback
        if scores.last_metrics is None or scores.last_epoch != epoch:
            return  # ValidationScores did not score this epoch
        cm = scores.last_metrics["confusion_matrix"]
        title = f"{scores.task.name}: validation, epoch {epoch + 1}"
        image = confusion_matrix_figure(cm, self.class_names, normalize=True, title=title)
        os.makedirs(self.out_dir, exist_ok=True)
        keras.utils.save_img(os.path.join(self.out_dir, f"confusion_matrix_epoch{epoch + 1:03d}.png"), image)
        keras.utils.save_img(os.path.join(self.out_dir, "confusion_matrix.png"), image)
        if self.tensorboard_dir:
            if self._writer is None:
                import tensorflow as tf

                self._writer = tf.summary.create_file_writer(self.tensorboard_dir)
            _write_tensorboard_image(self._writer, "confusion_matrix", image, epoch)
        if self.use_wandb:
            wandb = active_wandb()
            if wandb is not None:
                wandb.log({"confusion_matrix": wandb.Image(image, caption=title), "epoch": epoch + 1})

    def on_train_end(self, logs=None):
        logs = logs or {}
        if self._writer is not None:
            self._writer.close()
            self._writer = None
