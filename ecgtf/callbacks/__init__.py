"""Keras callbacks: whole-validation-set scores, confusion-matrix images, wandb logging.

Order matters: put :class:`ValidationScores` first, then callbacks that read its
results (:class:`ConfusionMatrixImage`, ``keras.callbacks.ModelCheckpoint`` monitoring
``val_<score>``, ``CSVLogger``, :func:`wandb_callbacks`).
"""

from ecgtf.callbacks.confusion_matrix_image import ConfusionMatrixImage
from ecgtf.callbacks.validation_scores import ValidationScores
from ecgtf.callbacks.wandb_logger import WandbValidationPlots, wandb_callbacks

__all__ = ["ConfusionMatrixImage", "ValidationScores", "WandbValidationPlots", "wandb_callbacks"]
