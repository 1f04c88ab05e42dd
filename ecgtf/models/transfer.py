"""Transfer learning from a trained Ribeiro network (the autoECG workflow).

A pretrained model (a run folder, a ``.keras`` file or the published Keras 2 ``model.hdf5``)
is cut at a named layer, its first ``freeze`` weighted layers are frozen, and a new head of
three Conv1D, three Dense layers and ``predictions`` is added. Phase 2 of training
(``--unfreeze-after E``) calls :func:`unfreeze` and recompiles.

"Layer" in ``freeze``/``unfreeze`` means a layer *with weights* (Conv1D,
BatchNormalization, Dense), counted in ``model.layers`` order, which for :mod:`ribeiro` is:
``stem_conv``, ``stem_bn``, ``res1_conv1``, ``res1_bn1``, ``res1_conv2``, ``res1_skip_conv``,
``res1_bn2``, ``res2_conv1``, ... So ``freeze=5`` freezes the stem and the first three weighted
layers of unit 1; ``freeze=7`` the stem and all of unit 1. Frozen BatchNormalization layers
run in inference mode (Keras 3 semantics).
"""

from __future__ import annotations

import os

import keras

from ecgtf.models.hdf5_import import keras2_io_shapes, read_keras2_hdf5
from ecgtf.models.registry import InputContract, register_model
from ecgtf.models.ribeiro import (PUBLISHED_CONTRACT, build_ribeiro, is_published_file, last_unit_output,
                                  load_ribeiro_hdf5, ribeiro_options_from_keras2)

PUBLISHED_INPUT_SHAPE = (4096, 12)
HEAD_PREFIX = "transfer_"


def load_pretrained(init_from: str | os.PathLike) -> keras.Model:
    """Loads the model to transfer from.

    Args:
        init_from: a run folder holding ``model.keras``, a ``.keras`` file, or a Keras 2
            ``.hdf5``/``.h5`` file of the Ribeiro network (built with the file's input shape,
            ``(4096, 12)`` if the file has no ``model_config``, its output count and the
            filters/kernel read by :func:`ribeiro_options_from_keras2`).

    Returns:
        The loaded, uncompiled model.

    Raises:
        FileNotFoundError: nothing to load at ``init_from``.
        ValueError: an unsupported, corrupt or truncated file (one line naming it).
    """
    path = os.fspath(init_from)
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--init-from: no model file at {path!r} (expected a run folder with "
                                "model.keras, a .keras file or the published .hdf5)")
    if path.endswith(".keras"):
        from ecgtf.inputs.specs import split_model
        from ecgtf.models.loading import load_model_file

        return split_model(load_model_file(path, flag="--init-from"))[1]  # the network of a run's model
    if path.endswith((".hdf5", ".h5")):
        try:
            info = read_keras2_hdf5(path)
        except (OSError, KeyError) as err:  # h5py: not HDF5, truncated, or a broken group
            raise ValueError(f"--init-from {path} cannot be loaded: the file is corrupt, truncated or not an "
                             f"HDF5 file ({' '.join(str(err).split())})") from None
        input_shape, num_outputs = keras2_io_shapes(info)
        model = build_ribeiro(input_shape or PUBLISHED_INPUT_SHAPE, num_outputs, **ribeiro_options_from_keras2(info))
        return load_ribeiro_hdf5(model, path)
    raise ValueError(f"--init-from: unsupported file {path!r}; use a run folder, .keras or .hdf5")


def source_contract(options: dict) -> InputContract | None:
    """What the model at ``options["init_from"]`` was trained on: the published model's
    input, a run folder's rate and lead order (its ``run_spec.json``), or None (unknown)."""
    init_from = options.get("init_from")
    if not init_from:
        return None
    if is_published_file(init_from):
        return PUBLISHED_CONTRACT
    spec_path = os.path.join(os.fspath(init_from), "run_spec.json")
    if os.path.isfile(spec_path):
        from ecgtf.inputs.runspec import RunSpec

        spec = RunSpec.load(spec_path)
        return InputContract(f"the run {os.fspath(init_from)}", sampling_rate=spec.sampling_rate,
                             lead_names=tuple(spec.lead_names) if spec.lead_names else None)
    return None


def _weighted_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if layer.weights]


def _backbone(source: keras.Model, input_shape: tuple, cut_layer: str) -> keras.Model:
    """A flat copy of ``source`` from its input up to ``cut_layer``, for a new input shape."""
    names = [layer.name for layer in source.layers]
    if cut_layer not in names:
        raise ValueError(f"cut_layer {cut_layer!r} is not a layer of {source.name!r}; layers: {', '.join(names)}")
    trunk = keras.Model(source.inputs, source.get_layer(cut_layer).output)
    source_leads = source.inputs[0].shape[-1]
    if input_shape[-1] != source_leads:
        raise ValueError(f"input_shape {input_shape} has {input_shape[-1]} leads but the pretrained model "
                         f"expects {source_leads}")
    config = trunk.get_config()
    for layer in config["layers"]:
        layer.pop("build_config", None)
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, *input_shape]
    backbone = keras.Model.from_config(config)
    for layer in _weighted_layers(backbone):
        layer.set_weights(source.get_layer(layer.name).get_weights())
    return backbone


def unfreeze(model: keras.Model, n_layers: int | None = None) -> keras.Model:
    """Makes frozen layers trainable for the second fine-tuning phase; recompile afterwards.

    Args:
        model: a model from :func:`build_ribeiro_transfer`.
        n_layers: how many frozen weighted layers to unfreeze, the deepest first; ``None``
            unfreezes every layer.

    Returns:
        ``model`` (modified in place).
    """
    if n_layers is None:
        chosen = model.layers
    else:
        frozen = [layer for layer in _weighted_layers(model) if not layer.trainable]
        chosen = frozen[len(frozen) - n_layers:] if n_layers > 0 else []
    for layer in chosen:
        layer.trainable = True
    return model


@register_model("ribeiro_transfer", input_kind="raw", defaults={"batch_size": 32, "lr": 1e-3},
                description="Ribeiro net transferred: frozen pretrained layers + new conv/dense head.",
                unfreeze=unfreeze, contract=source_contract)
def build_ribeiro_transfer(input_shape, num_classes: int, *, init_from: str, freeze: int = 5,
                           cut_layer: str | None = None, activation: str = "sigmoid",
                           head_filters=(128, 64, 32), head_units=(64, 32, 16),
                           head_kernel_size: int = 3, name: str = "ribeiro_transfer") -> keras.Model:
    """Builds a transfer model on a pretrained Ribeiro network.

    Args:
        input_shape: ``(samples, leads)`` of the new task, in mV; ``leads`` must match the
            pretrained model, ``samples`` may differ (the kept part is fully convolutional;
            the published model expects 400 Hz).
        num_classes: outputs of the new ``predictions`` layer.
        init_from: see :func:`load_pretrained`.
        freeze: number of leading weighted layers to freeze (see the module docstring).
        cut_layer: layer whose output feeds the new head; default the last residual unit's
            output (``res4_drop2`` for the standard network).
        activation: output activation.
        head_filters: filters of the three new Conv1D layers (ReLU, kernel ``head_kernel_size``).
        head_units: units of the three new Dense layers (ReLU), after global average pooling.
        head_kernel_size: kernel length of the head convolutions (samples).
        name: model name.

    Returns:
        A flat functional model ``(batch, samples, leads) -> (batch, num_classes)``; the
        pretrained layers keep their names, new ones start with ``transfer_``.

    Raises:
        ValueError: ``init_from`` missing, unknown ``cut_layer``, lead mismatch, or ``freeze``
            out of range.
    """
    if not init_from:
        raise ValueError("ribeiro_transfer needs init_from (a run folder, a .keras file or the published .hdf5)")
    source = load_pretrained(init_from)
    backbone = _backbone(source, tuple(input_shape), cut_layer or last_unit_output(source))
    weighted = _weighted_layers(backbone)
    if not 0 <= freeze <= len(weighted):
        raise ValueError(f"freeze must be in [0, {len(weighted)}] (weighted layers up to the cut), got {freeze}")
    for layer in weighted[:freeze]:
        layer.trainable = False

    x = backbone.output
    for index, filters in enumerate(head_filters, start=1):
        x = keras.layers.Conv1D(filters, head_kernel_size, padding="same", activation="relu",
                                name=f"{HEAD_PREFIX}conv{index}")(x)
    x = keras.layers.GlobalAveragePooling1D(name=f"{HEAD_PREFIX}pool")(x)
    for index, units in enumerate(head_units, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"{HEAD_PREFIX}dense{index}")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(backbone.input, outputs, name=name)
