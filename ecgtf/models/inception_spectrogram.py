"""InceptionResNetV2 on ECG spectrogram images (transfer learning), flat functional model.

Input: ``(batch, H, W, 3)`` standardised log-spectrogram images from
:class:`ecgtf.data.spectrogram.SpectrogramImage` (H, W >= 75). The backbone is
built on the model input, so inner layers (``conv_7b``, ``block8_10`` ...) are
reachable with ``model.get_layer`` for Grad-CAM. Head as in the study:
GlobalAveragePooling2D, Dense(500, sigmoid), Dense(num_classes, softmax).

Two-phase training: :func:`freeze_backbone` (phase 1, head only), then
:func:`unfreeze_top` (phase 2, top blocks; registered as the ``unfreeze`` hook).

References:
    Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual
    Connections on Learning", AAAI 2017.
"""

from __future__ import annotations

import re

import keras

from ecgtf.models.backbones import (build_backbone, check_image_shape, freeze_all_but, resolve_weights,
                                    unfreeze_from)
from ecgtf.models.registry import register_model

MIN_IMAGE_SIZE = 75
HEAD_LAYERS = ("head_pool", "head_dense", "head_dropout", "predictions")
#: Phase 2 default: the 10 Inception-ResNet-C blocks (block8_1..10) and conv_7b.
DEFAULT_UNFREEZE_BLOCKS = 11

# Named layers that end (or nearly end) a unit of InceptionResNetV2: the stem/reduction
# outputs ``mixed_*``, each residual block's ``*_ac`` activation or, for the last block8
# (no activation), its ``*_conv`` followed by the unnamed scale layer; and ``conv_7b_ac``.
_BLOCK_END = re.compile(r"^(mixed_\w+|block(?:35|17|8)_\d+_(?:ac|conv)|conv_7b_ac)$")


@register_model(
    "inception_spectrogram",
    input_kind="spectrogram",
    defaults={
        "batch_size": 16,
        "optimizer": "adam",
        "lr": 1e-3,
        # 75x75 (the backbone's minimum), batch 16, 2 CPU cores: ~1 s/step with the whole
        # network training (random init), ~0.2 s/step frozen (ImageNet phase 1); the bare
        # command (600 synthetic records) takes ~7 min. Raise image_size when time allows.
        "epochs": 10,
        "unfreeze_after": 5,
        "duration_s": 9.0,     # train on random 9 s crops, never on zero padding
        "eval_hop_s": 4.5,     # evaluate by averaging over crops 4.5 s apart
        "model_options": {"image_size": (75, 75)},
    },
    description="InceptionResNetV2 (ImageNet transfer) on log-spectrogram images; head GAP-Dense(500)",
    unfreeze=lambda model: unfreeze_top(model),
)
def build(input_shape, num_classes: int, *, activation: str = "softmax", weights="imagenet",
          hidden_units: int = 500, hidden_activation: str = "sigmoid", dropout: float = 0.0,
          frozen: bool | None = None, image_size=None, bn_momentum: float | None = None) -> keras.Model:
    """Builds the flat InceptionResNetV2 spectrogram classifier.

    Args:
        input_shape: ``(H, W, 3)`` image shape, H and W >= 75.
        num_classes: outputs of the ``predictions`` layer.
        activation: output activation (softmax for exclusive classes such as N/A/O/~).
        weights: ``"imagenet"``, None/``"none"`` or a path (see
            :func:`ecgtf.models.backbones.resolve_weights`); a failed ImageNet download
            raises, naming ``--weights none`` and ``--weights PATH``.
        hidden_units: width of the hidden dense layer.
        hidden_activation: its activation.
        dropout: dropout rate before ``predictions`` (0 disables; no layer added).
        frozen: return the model frozen for phase 1 (:func:`freeze_backbone`: head only);
            the registry's ``unfreeze`` hook opens the top blocks for phase 2. None (the
            default) freezes pretrained backbones only: random features are not worth
            keeping fixed. (Named ``frozen``, not ``freeze``: the trainer's integer
            ``freeze`` option is a layer count for other models.)
        bn_momentum: BatchNorm moving-average momentum. None keeps Keras' 0.99 for
            pretrained weights and uses 0.9 from random initialisation, where a few
            hundred CPU steps would otherwise leave the inference statistics far behind
            the weights (validation then predicts a single class).
        image_size: accepted for the trainer's convenience; the input shape wins, but
            a disagreeing value raises.

    Returns:
        A ``keras.Model`` ``(batch, H, W, 3) -> (batch, num_classes)``.
    """
    check_image_shape(input_shape, MIN_IMAGE_SIZE, image_size, what="InceptionResNetV2")
    inputs = keras.Input(shape=tuple(input_shape), name="spectrogram")
    backbone = build_backbone(keras.applications.InceptionResNetV2, inputs, weights)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(backbone.output)
    x = keras.layers.Dense(hidden_units, activation=hidden_activation, name="head_dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name="inception_spectrogram")
    if bn_momentum is None and resolve_weights(weights) is None:
        bn_momentum = 0.9
    if bn_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    if frozen is None:
        frozen = resolve_weights(weights) is not None
    return freeze_backbone(model) if frozen else model


def freeze_backbone(model: keras.Model) -> keras.Model:
    """Phase 1: only the head (``HEAD_LAYERS``) trains; backbone BatchNorm runs in inference mode.

    Returns:
        ``model``; recompile before training.
    """
    return freeze_all_but(model, HEAD_LAYERS)


def block_boundaries(model: keras.Model) -> list[int]:
    """Indices in ``model.layers`` of the last layer of each InceptionResNetV2 unit, in order."""
    last = {}
    for i, layer in enumerate(model.layers):
        if _BLOCK_END.match(layer.name):
            unit = re.sub(r"_(ac|conv)$", "", layer.name)
            # ``*_conv`` is followed by the block's scale layer (its end without activation).
            last[unit] = max(last.get(unit, -1), i + 1 if layer.name.endswith("_conv") else i)
    if "conv_7b" not in last:
        raise ValueError("not an InceptionResNetV2 model: no conv_7b layer")
    return sorted(last.values())


def unfreeze_top(model: keras.Model, n_blocks: int | None = None, fraction: float | None = None) -> keras.Model:
    """Phase 2: unfreezes the top units of InceptionResNetV2 (and the head).

    Units, from the top: ``conv_7b``, ``block8_10`` ... ``block8_1``, ``mixed_7a``,
    ``block17_20`` ... (each residual block with its branch convolutions).
    BatchNormalization layers stay frozen (inference mode).

    Args:
        model: a model from :func:`build`.
        n_blocks: number of top units to unfreeze (default ``DEFAULT_UNFREEZE_BLOCKS``:
            the block8 stage and conv_7b).
        fraction: alternatively, this fraction (0-1] of all units.

    Returns:
        ``model``; recompile before training.
    """
    bounds = block_boundaries(model)
    if n_blocks is not None and fraction is not None:
        raise ValueError("give n_blocks or fraction, not both")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        n_blocks = max(1, round(fraction * len(bounds)))
    n_blocks = DEFAULT_UNFREEZE_BLOCKS if n_blocks is None else int(n_blocks)
    if n_blocks < 1:
        raise ValueError(f"n_blocks must be >= 1, got {n_blocks}")
    start = 1 if n_blocks >= len(bounds) else bounds[-n_blocks - 1] + 1
    for name in HEAD_LAYERS:
        if name in {layer.name for layer in model.layers}:
            model.get_layer(name).trainable = True
    return unfreeze_from(model, start)
