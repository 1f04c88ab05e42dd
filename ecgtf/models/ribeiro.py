"""The residual 1-D CNN of Ribeiro et al. (2020) and loading of its published weights.

The layer graph follows the Keras 2.2.4 ``model_config`` stored in the published
``model.hdf5``: a stem Conv1D(64, 16)-BN-ReLU, four residual units (128, 196, 256, 320
filters, each downsampling ×4), Flatten and a Dense output. At input ``(4096, 12)`` with 6
outputs it has exactly 6,425,638 parameters.

Units of the published model: signals in mV, sampled at 400 Hz, 4096 samples (about 10 s,
zero-padded at both ends), the 12 leads in the order DI, DII, DIII, AVR, AVL, AVF, V1–V6;
6 sigmoid outputs (1dAVb, RBBB, LBBB, SB, AF, ST).

Layer names are descriptive (``stem_conv``, ``res2_conv1``, ...);
:func:`keras2_layer_names` maps them to the names in the published file (``conv1d_1`` …
``dense_8``).

References:
    Ribeiro, A.H. et al. Automatic diagnosis of the 12-lead ECG using a deep neural network.
    Nat Commun 11, 1760 (2020). https://doi.org/10.1038/s41467-020-15432-4
"""

from __future__ import annotations

import os

import keras

from ecgtf.models.hdf5_import import Keras2Weights, assign_layer_weights, read_keras2_hdf5
from ecgtf.models.registry import InputContract, register_model

DEFAULT_FILTERS = (64, 128, 196, 256, 320)
#: The input of the published weights (Ribeiro et al. 2020).
PUBLISHED_CONTRACT = InputContract(
    "the published Ribeiro et al. 2020 weights", sampling_rate=400.0, samples=4096,
    lead_names=("DI", "DII", "DIII", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"), units="mV")


def is_published_file(path) -> bool:
    """Whether ``path`` names a Keras 2 ``.hdf5``/``.h5`` file of the published model."""
    path = os.fspath(path or "")
    return path.endswith((".hdf5", ".h5")) and not path.endswith(".weights.h5")


def published_contract(options: dict) -> InputContract | None:
    """The published model's input when ``options`` load its weights, else None."""
    return PUBLISHED_CONTRACT if is_published_file(options.get("weights")) else None


def _residual_unit(x, y, index: int, filters: int, kernel_size: int, downsample: int, dropout: float):
    """One residual unit; ``x`` is the main path, ``y`` the (pre-normalisation) skip path.

    Returns:
        ``(x, y)``: the unit's activated output and the new skip tensor (the sum before BN).
    """
    p = f"res{index}_"
    # Skip path: downsample with max pooling, match channels with a 1x1 conv.
    if downsample > 1:
        y = keras.layers.MaxPooling1D(downsample, strides=downsample, padding="same", name=p + "skip_pool")(y)
    if filters != y.shape[-1]:
        y = keras.layers.Conv1D(filters, 1, padding="same", use_bias=False, name=p + "skip_conv")(y)
    # Main path: conv-BN-ReLU-dropout, then the strided conv.
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False, name=p + "conv1")(x)
    x = keras.layers.BatchNormalization(name=p + "bn1")(x)
    x = keras.layers.Activation("relu", name=p + "relu1")(x)
    x = keras.layers.Dropout(dropout, name=p + "drop1")(x)
    x = keras.layers.Conv1D(filters, kernel_size, strides=downsample, padding="same", use_bias=False,
                            name=p + "conv2")(x)
    x = keras.layers.Add(name=p + "add")([x, y])
    y = x
    x = keras.layers.BatchNormalization(name=p + "bn2")(x)
    x = keras.layers.Activation("relu", name=p + "relu2")(x)
    x = keras.layers.Dropout(dropout, name=p + "drop2")(x)
    return x, y


def last_unit_output(model: keras.Model) -> str:
    """Name of the layer whose output is the last residual unit's output (``res4_drop2``)."""
    units = [layer.name for layer in model.layers if layer.name.startswith("res") and layer.name.endswith("_drop2")]
    if not units:
        raise ValueError(f"model {model.name!r} has no Ribeiro residual units (no 'res<k>_drop2' layer)")
    return max(units, key=lambda n: int(n[3:-len("_drop2")]))


@register_model("ribeiro", input_kind="raw", defaults={"batch_size": 64, "lr": 1e-3}, contract=published_contract,
                description="Ribeiro et al. 2020 residual 1-D CNN (6.4 M params at 4096x12).")
def build_ribeiro(input_shape, num_classes: int, *, activation: str = "sigmoid", kernel_size: int = 16,
                  filters=DEFAULT_FILTERS, downsample: int = 4, dropout: float = 0.2,
                  weights: str | None = None, name: str = "ribeiro") -> keras.Model:
    """Builds the Ribeiro et al. residual network.

    Args:
        input_shape: ``(samples, leads)``, e.g. ``(4096, 12)``; signals in mV. The time axis
            must be known (Flatten needs it). Any length works: every downsampling uses
            "same" padding, so both paths of a unit give ``ceil(samples / downsample)``;
            the published model uses 4096 = 4**6.
        num_classes: number of outputs.
        activation: output activation (``"sigmoid"`` multi-label, ``"softmax"`` single-label).
        kernel_size: kernel length of every non-skip convolution (samples).
        filters: stem filters followed by one entry per residual unit.
        downsample: downsampling factor of each residual unit.
        dropout: dropout rate after each ReLU of the units. The published Keras 2 config stores
            rate 0.8 (the paper's keep probability passed as the rate); 0.2 is the intended
            rate. Dropout does not change inference or the weights.
        weights: optional path to the published Keras 2 ``model.hdf5`` (loaded with
            :func:`load_ribeiro_hdf5`) or a Keras 3 ``.weights.h5``; ``None``/``"none"`` for
            random initialisation.
        name: model name.

    Returns:
        A flat functional model ``(batch, samples, leads) -> (batch, num_classes)`` whose last
        layer is ``predictions``.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 2 or input_shape[0] is None:
        raise ValueError(f"ribeiro needs input_shape (samples, leads) with a known number of samples, "
                         f"got {input_shape}")
    filters = tuple(int(f) for f in filters)
    if len(filters) < 2:
        raise ValueError(f"filters needs the stem and at least one unit, got {filters}")
    inputs = keras.Input(shape=input_shape, name="signal")
    x = keras.layers.Conv1D(filters[0], kernel_size, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.Activation("relu", name="stem_relu")(x)
    y = x
    for index, unit_filters in enumerate(filters[1:], start=1):
        x, y = _residual_unit(x, y, index, unit_filters, kernel_size, downsample, dropout)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name=name)
    if weights not in (None, "", "none"):
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"ribeiro weights: no file {os.fspath(weights)!r} (give the published "
                                    "model.hdf5 or a .weights.h5; there are no named presets)")
        if os.fspath(weights).endswith(".weights.h5"):
            model.load_weights(weights)
        else:
            load_ribeiro_hdf5(model, weights)
    return model


def keras2_layer_names(model: keras.Model) -> dict[str, str]:
    """Maps this module's layer names to the Keras 2 names of the published model.

    Keras 2 numbered layers per type in creation order, and the original code created each
    unit's skip conv before its two main convs. For the default configuration this gives
    ``stem_conv -> conv1d_1``, ``res1_skip_conv -> conv1d_2``, ``res1_conv1 -> conv1d_3``, ...,
    ``res4_bn2 -> batch_normalization_9`` and ``predictions -> dense_8`` (the published file's
    Dense is ``dense_8`` because Keras 2 counted across models in one session).

    Args:
        model: a model built by :func:`build_ribeiro`.

    Returns:
        ``{our_name: keras2_name}`` for the weighted layers, in the file's layer order.
    """
    names = {layer.name for layer in model.layers}
    conv, bn = iter(range(1, 10_000)), iter(range(1, 10_000))
    mapping = {"stem_conv": f"conv1d_{next(conv)}", "stem_bn": f"batch_normalization_{next(bn)}"}
    index = 1
    while f"res{index}_conv1" in names:
        p = f"res{index}_"
        skip = f"conv1d_{next(conv)}" if p + "skip_conv" in names else None
        mapping[p + "conv1"] = f"conv1d_{next(conv)}"
        mapping[p + "bn1"] = f"batch_normalization_{next(bn)}"
        mapping[p + "conv2"] = f"conv1d_{next(conv)}"
        if skip:
            mapping[p + "skip_conv"] = skip
        mapping[p + "bn2"] = f"batch_normalization_{next(bn)}"
        index += 1
    mapping["predictions"] = "dense_8"
    return mapping


def load_ribeiro_hdf5(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """Loads the published Keras 2 ``model.hdf5`` weights into a :func:`build_ribeiro` model.

    Layers are matched by :func:`keras2_layer_names`; if the file's weighted layers do not
    carry exactly those names (e.g. another Dense number), they are matched by order instead
    (the file's ``layer_names`` order against the mapping's order). Within a layer, weights are
    matched by name (``kernel``, ``gamma``, ``moving_mean``, ...), and every shape is checked.

    Args:
        model: the model to fill; built with the file's input length and output count.
        path: the Keras 2 HDF5 file (``keras_version`` 2.x layout).

    Returns:
        ``model``, with its weights replaced.

    Raises:
        ValueError: layer counts or weight shapes do not match.
    """
    info = read_keras2_hdf5(path)
    mapping = keras2_layer_names(model)
    file_layers = info.weighted_layers
    if set(mapping.values()) == set(file_layers):
        pairs = list(mapping.items())
    else:
        if len(file_layers) != len(mapping):
            raise ValueError(f"{os.fspath(path)!r} has {len(file_layers)} weighted layers, model "
                             f"{model.name!r} has {len(mapping)}: {file_layers} vs {list(mapping)}")
        # The mapping lists the layers in the published file's layer order.
        pairs = list(zip(mapping, file_layers))
    for ours, theirs in pairs:
        assign_layer_weights(model.get_layer(ours), info.weights[theirs], theirs)
    return model


def ribeiro_options_from_keras2(info: Keras2Weights) -> dict:
    """Builder options that reproduce the architecture stored in a Keras 2 Ribeiro file.

    ``filters`` come from the BatchNormalization sizes (the stem's, then each unit's second),
    ``kernel_size`` from the first convolution, ``downsample`` from the first MaxPooling1D of
    the ``model_config`` (4 when the file has none).

    Args:
        info: what :func:`ecgtf.models.hdf5_import.read_keras2_hdf5` returned.

    Returns:
        ``{"filters": ..., "kernel_size": ..., "downsample": ...}`` for :func:`build_ribeiro`.
    """
    layers = [info.weights[n] for n in info.weighted_layers]
    bn_sizes = [int(w["gamma"].shape[0]) for w in layers if "moving_mean" in w]
    if len(bn_sizes) < 3 or len(bn_sizes) % 2 == 0:
        raise ValueError(f"not a Ribeiro network: {len(bn_sizes)} BatchNormalization layers "
                         "(expected the stem's plus two per unit)")
    kernel_size = int(next(w["kernel"].shape[0] for w in layers if w.get("kernel") is not None
                           and w["kernel"].ndim == 3))
    downsample = 4
    for layer in (info.model_config or {}).get("config", {}).get("layers", []):
        if layer.get("class_name") == "MaxPooling1D":
            pool = layer["config"]["pool_size"]
            downsample = int(pool[0] if isinstance(pool, (list, tuple)) else pool)
            break
    return {"filters": (bn_sizes[0], *bn_sizes[2::2]), "kernel_size": kernel_size, "downsample": downsample}
