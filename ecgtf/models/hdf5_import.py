"""Reading weights from legacy Keras 2 HDF5 model files (e.g. Ribeiro's ``model.hdf5``).

Keras 2 (``model.save("model.hdf5")``) lays a file out as:

* root attributes ``keras_version``, ``backend`` and ``model_config`` (JSON);
* group ``model_weights`` (or the root itself for ``save_weights`` files) with the attribute
  ``layer_names``, every layer of the model in ``model.layers`` order;
* one group per layer with the attribute ``weight_names`` (e.g. ``conv1d_1/kernel:0``),
  each a dataset path relative to that layer group.

Keras 3 cannot load such files by layer name, so this module reads them with ``h5py`` into
plain numpy arrays that a builder then maps onto its own layers.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np


@dataclasses.dataclass
class Keras2Weights:
    """The weights of a Keras 2 HDF5 file.

    Attributes:
        layer_names: every layer name in the file's ``layer_names`` order.
        weights: ``{layer_name: {short_weight_name: array}}`` for layers that have weights;
            short names drop the layer prefix and the ``:0`` suffix (``kernel``, ``bias``,
            ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``).
        model_config: the parsed ``model_config`` root attribute, or ``None``.
        keras_version: the ``keras_version`` root attribute, or ``""``.
    """

    layer_names: list[str]
    weights: dict[str, dict[str, np.ndarray]]
    model_config: dict | None
    keras_version: str

    @property
    def weighted_layers(self) -> list[str]:
        """Names of the layers that have weights, in file order."""
        return [n for n in self.layer_names if n in self.weights]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _short_name(weight_name: str) -> str:
    # "conv1d_1/kernel:0" -> "kernel"; "model/bn/moving_mean:0" -> "moving_mean"
    return weight_name.rsplit("/", 1)[-1].split(":", 1)[0]


def read_keras2_hdf5(path: str | os.PathLike) -> Keras2Weights:
    """Reads every layer's weights from a Keras 2 HDF5 model or weights file.

    Args:
        path: the ``.hdf5``/``.h5`` file.

    Returns:
        A :class:`Keras2Weights`.

    Raises:
        ValueError: the file does not have the Keras 2 layout.
    """
    import h5py

    with h5py.File(path, "r") as f:
        root_attrs = dict(f.attrs)
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in group.attrs:
            raise ValueError(f"{os.fspath(path)!r} is not a Keras 2 HDF5 file: no 'layer_names' attribute "
                             "in 'model_weights' or at the root")
        layer_names = [_text(n) for n in group.attrs["layer_names"]]
        weights: dict[str, dict[str, np.ndarray]] = {}
        for name in layer_names:
            layer_group = group[name]
            names = [_text(n) for n in layer_group.attrs.get("weight_names", [])]
            if names:
                weights[name] = {_short_name(w): np.asarray(layer_group[w]) for w in names}
        config = root_attrs.get("model_config")
        return Keras2Weights(
            layer_names=layer_names,
            weights=weights,
            model_config=json.loads(_text(config)) if config is not None else None,
            keras_version=_text(root_attrs.get("keras_version", "")),
        )


def keras2_io_shapes(info: Keras2Weights) -> tuple[tuple | None, int]:
    """Input shape (without batch) and output count of a Keras 2 model file.

    The input shape comes from the ``model_config`` (``None`` when absent); the output count
    from the last weighted layer's bias (or kernel) in file order.

    Args:
        info: what :func:`read_keras2_hdf5` returned.

    Returns:
        ``(input_shape or None, num_outputs)``.
    """
    input_shape = None
    if info.model_config is not None:
        for layer in info.model_config.get("config", {}).get("layers", []):
            if layer.get("class_name") == "InputLayer":
                shape = layer["config"].get("batch_input_shape") or layer["config"].get("batch_shape")
                input_shape = tuple(shape[1:])
                break
    last = info.weights[info.weighted_layers[-1]]
    num_outputs = int(last["bias"].shape[-1] if "bias" in last else last["kernel"].shape[-1])
    return input_shape, num_outputs


def assign_layer_weights(layer, arrays: dict[str, np.ndarray], source: str) -> None:
    """Sets a Keras 3 layer's weights from ``{short_name: array}``, matching by name.

    Args:
        layer: a built Keras layer (Conv1D, BatchNormalization, Dense, ...).
        arrays: the file's weights for one layer, as in :attr:`Keras2Weights.weights`.
        source: the file layer's name, for error messages.

    Raises:
        ValueError: a weight is missing or has another shape.
    """
    values = []
    for variable in layer.weights:
        short = _short_name(variable.path)
        if short not in arrays:
            raise ValueError(f"layer {layer.name!r} needs weight {short!r} but file layer {source!r} "
                             f"has only {sorted(arrays)}")
        value = arrays[short]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"shape mismatch for {layer.name!r}.{short} <- {source!r}: model expects "
                             f"{tuple(variable.shape)}, file has {tuple(value.shape)}")
        values.append(value)
    if len(arrays) != len(values):
        raise ValueError(f"file layer {source!r} has weights {sorted(arrays)} but layer {layer.name!r} "
                         f"has {[_short_name(v.path) for v in layer.weights]}")
    layer.set_weights(values)
