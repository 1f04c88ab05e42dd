"""Helpers for image models and ``keras.applications`` backbones: input checks, weights, (un)freezing.

Shared by the image models (``inception_spectrogram``, image CNNs). A backbone is built
flat on the model's input tensor (``include_top=False, input_tensor=inputs``) so its
inner layers stay reachable with ``model.get_layer`` (Grad-CAM).
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

import keras


class BackboneWeightsError(RuntimeError):
    """Backbone weights could not be obtained (download failed, bad file)."""


_NO_WEIGHTS = {None, "none", "None", ""}


def check_image_shape(input_shape, min_size: int, image_size=None, *, what: str) -> tuple[int, int]:
    """Validates an image model's ``(H, W, channels)`` input and returns ``(H, W)``.

    Args:
        input_shape: the builder's ``input_shape``.
        min_size: smallest allowed H and W in pixels.
        image_size: the trainer's ``image_size`` option, if any; must equal ``(H, W)``.
        what: the network named in the error message.

    Raises:
        ValueError: not 3-D, smaller than ``min_size``, or disagreeing with ``image_size``.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H, W, channels), got {tuple(input_shape)}")
    height, width, _ = input_shape
    if height is None or width is None or min(height, width) < min_size:
        raise ValueError(f"{what} needs images of at least {min_size}x{min_size}, "
                         f"got {height}x{width}; raise image_size")
    if image_size is not None and tuple(image_size) != (height, width):
        raise ValueError(f"image_size {tuple(image_size)} disagrees with input_shape {tuple(input_shape)}")
    return height, width


def resolve_weights(weights) -> str | None:
    """Normalises a ``weights`` option.

    Args:
        weights: ``"imagenet"``, None or ``"none"`` (random initialisation), or a path
            to a weights file (``.h5``, ``.weights.h5``) or a saved ``.keras`` model.

    Returns:
        ``"imagenet"``, None, or the path as a string.

    Raises:
        BackboneWeightsError: a path that does not exist.
    """
    if weights in _NO_WEIGHTS:
        return None
    weights = os.fspath(weights)
    if weights == "imagenet":
        return weights
    if not os.path.exists(weights):
        raise BackboneWeightsError(
            f"backbone weights file {weights!r} not found; use --weights imagenet, --weights none "
            "or --weights PATH with an existing .h5/.weights.h5/.keras file")
    return weights


def build_backbone(application: Callable[..., keras.Model], inputs, weights="imagenet") -> keras.Model:
    """Builds a ``keras.applications`` backbone without top on ``inputs``.

    Args:
        application: e.g. ``keras.applications.InceptionResNetV2``.
        inputs: the model's ``keras.Input`` tensor ``(batch, H, W, 3)``.
        weights: see :func:`resolve_weights`. ``"imagenet"`` downloads (or reads the Keras
            cache); a failure raises instead of silently training from scratch.

    Returns:
        The backbone model (its ``input`` is ``inputs``).

    Raises:
        BackboneWeightsError: the ImageNet weights could not be downloaded, or a file
            could not be loaded.
    """
    weights = resolve_weights(weights)
    name = getattr(application, "__name__", "backbone")
    if weights == "imagenet":
        try:
            return application(include_top=False, weights="imagenet", input_tensor=inputs)
        except Exception as err:  # download or cache failure: never fall back silently
            raise BackboneWeightsError(
                f"could not get the ImageNet weights of {name} ({type(err).__name__}: {err}). "
                "Without internet access, train from scratch with --weights none, or pass a local "
                "weights file with --weights PATH (a no-top .h5/.weights.h5 or a .keras model).") from err
    backbone = application(include_top=False, weights=None, input_tensor=inputs)
    if weights is not None:
        load_backbone_weights(backbone, weights)
    return backbone


def load_backbone_weights(backbone: keras.Model, path: str) -> keras.Model:
    """Loads weights from ``path`` into ``backbone``.

    A ``.keras`` file is a whole saved model (e.g. a trained model of the same family):
    its layers are paired with the backbone's in order
    (:func:`copy_weights_in_order`). Other
    files (``.h5``, ``.weights.h5``) are read with ``backbone.load_weights``.

    Args:
        backbone: the backbone model.
        path: weights file.

    Returns:
        ``backbone``.

    Raises:
        BackboneWeightsError: the file does not fit the backbone.
    """
    try:
        if path.endswith(".keras"):
            from ecgtf.models.loading import load_model_file

            source = load_model_file(path)
            copy_weights_in_order(source, backbone.layers)
        else:
            backbone.load_weights(path)
    except BackboneWeightsError:
        raise
    except Exception as err:
        raise BackboneWeightsError(f"could not load backbone weights from {path!r}: {err}") from err
    return backbone


def copy_weights_in_order(source: keras.Model, layers: Iterable[keras.layers.Layer]) -> None:
    """Copies weights from ``source``'s layers into ``layers``, pairing layers with weights in order.

    Layer order (topological) is stable across builds while auto-generated names
    (``conv2d_123``) are not, so layers are paired by position; extra layers at the end
    of ``source`` (a head) are ignored.

    Raises:
        BackboneWeightsError: the layer types or weight shapes do not match.
    """
    targets = [layer for layer in layers if layer.weights]
    sources = [layer for layer in source.layers if layer.weights]
    if len(sources) < len(targets):
        raise BackboneWeightsError(f"the saved model has {len(sources)} layers with weights, "
                                   f"the backbone needs {len(targets)}")
    for src, dst in zip(sources, targets):
        values = src.get_weights()
        if type(src) is not type(dst) or [v.shape for v in values] != [tuple(w.shape) for w in dst.weights]:
            raise BackboneWeightsError(f"saved layer {src.name!r} does not match backbone layer {dst.name!r}")
        dst.set_weights(values)


def freeze_all_but(model: keras.Model, trainable_names: Iterable[str]) -> keras.Model:
    """Sets ``trainable=False`` on every layer except those named in ``trainable_names``.

    Frozen BatchNormalization layers run in inference mode in Keras 3 (their moving
    statistics are kept). The caller recompiles.

    Returns:
        ``model``.
    """
    keep = set(trainable_names)
    for layer in model.layers:
        layer.trainable = layer.name in keep
    return model


def unfreeze_from(model: keras.Model, index: int, keep_batchnorm_frozen: bool = True) -> keras.Model:
    """Makes ``model.layers[index:]`` trainable (layers before keep their state).

    Args:
        model: a flat functional model (``model.layers`` in topological order).
        index: first layer to unfreeze.
        keep_batchnorm_frozen: leave BatchNormalization layers frozen (inference mode),
            as recommended when fine-tuning on small data sets.

    Returns:
        ``model``; the caller recompiles.
    """
    for layer in model.layers[index:]:
        if keep_batchnorm_frozen and isinstance(layer, keras.layers.BatchNormalization):
            continue
        layer.trainable = True
    return model


def count_params(weights) -> int:
    """Total number of scalars in a list of variables."""
    return int(sum(int(keras.ops.size(w)) for w in weights))
