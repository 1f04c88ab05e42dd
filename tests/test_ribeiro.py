"""Ribeiro network: parameter count, Keras 2 HDF5 weight import, and the transfer workflow."""

import json

import h5py
import numpy as np
import pytest

import keras

from ecgtf.models import get_entry, get_model
from ecgtf.models.hdf5_import import keras2_io_shapes, read_keras2_hdf5
from ecgtf.models.ribeiro import build_ribeiro, keras2_layer_names, load_ribeiro_hdf5, ribeiro_options_from_keras2
from ecgtf.models.transfer import build_ribeiro_transfer, unfreeze

TINY = {"filters": (8, 16, 16, 24, 24), "kernel_size": 8}
SHAPE = (256, 12)


def _x(n=2, shape=SHAPE, seed=1):
    return np.random.default_rng(seed).normal(0.0, 0.5, (n, *shape)).astype("float32")


def _predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def _write_keras2_hdf5(path, model, names=None):
    """Writes ``model``'s weights in the Keras 2.2.4 ``model.save`` HDF5 layout."""
    names = names or keras2_layer_names(model)
    layers = [{"class_name": "InputLayer", "name": "signal",
               "config": {"batch_input_shape": [None, *model.input_shape[1:]], "name": "signal"}}]
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        group = f.create_group("model_weights")
        layer_names = ["signal"]
        for ours, theirs in names.items():
            layer = model.get_layer(ours)
            layer_names.append(theirs)
            if ours == "stem_bn":
                layer_names.append("activation_1")  # a weightless layer, as in the real file
                group.create_group("activation_1").attrs["weight_names"] = np.array([], dtype="S")
            sub = group.create_group(theirs)
            weight_names = []
            for variable, value in zip(layer.weights, layer.get_weights()):
                short = variable.path.rsplit("/", 1)[-1]
                weight_names.append(f"{theirs}/{short}:0".encode())
                sub.create_dataset(f"{theirs}/{short}:0", data=value)
            sub.attrs["weight_names"] = np.array(weight_names, dtype="S")
            layers.append({"class_name": type(layer).__name__, "name": theirs, "config": {"name": theirs}})
        group.create_group("signal").attrs["weight_names"] = np.array([], dtype="S")
        group.attrs["layer_names"] = np.array([n.encode() for n in layer_names], dtype="S")
        f.attrs["model_config"] = json.dumps({"class_name": "Model", "config": {"layers": layers}}).encode()
    return path


def test_published_parameter_count():
    model = get_model("ribeiro", (4096, 12), 6)
    assert model.count_params() == 6_425_638
    assert model.get_layer("flatten").output.shape[1] == 16 * 320


def test_layer_names_map_to_published_file():
    mapping = keras2_layer_names(build_ribeiro((4096, 12), 6))
    expected = {f"conv1d_{i}" for i in range(1, 14)} | {f"batch_normalization_{i}" for i in range(1, 10)} | {"dense_8"}
    assert set(mapping.values()) == expected
    assert mapping["res1_skip_conv"] == "conv1d_2" and mapping["res1_conv1"] == "conv1d_3"
    assert mapping["res4_conv2"] == "conv1d_13" and mapping["res4_bn2"] == "batch_normalization_9"


def test_any_known_length_and_unknown_length_error():
    model = build_ribeiro((1000, 12), 2, **TINY)  # 1000 -> 250 -> 63 -> 16 -> 4
    assert model.get_layer("flatten").output.shape[1] == 4 * 24
    assert _predict(model, _x(shape=(1000, 12))).shape == (2, 2)
    with pytest.raises(ValueError, match="known number of samples"):
        build_ribeiro((None, 12), 2)


def test_hdf5_import_reproduces_predictions(tmp_path):
    source = build_ribeiro(SHAPE, 3, **TINY)
    # Non-trivial BN statistics, so that they are checked too.
    for layer in source.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([gamma * 1.5, beta + 0.1, mean + 0.2, var * 2.0])
    path = _write_keras2_hdf5(tmp_path / "model.hdf5", source)
    info = read_keras2_hdf5(path)
    assert info.keras_version == "2.2.4"
    assert keras2_io_shapes(info) == (SHAPE, 3)
    assert ribeiro_options_from_keras2(info) == {**TINY, "downsample": 4}

    keras.utils.set_random_seed(123)
    target = build_ribeiro(SHAPE, 3, **TINY)
    x = _x()
    assert not np.allclose(_predict(source, x), _predict(target, x))
    load_ribeiro_hdf5(target, path)
    np.testing.assert_allclose(_predict(target, x), _predict(source, x), rtol=1e-5, atol=1e-6)
    via_option = get_model("ribeiro", SHAPE, 3, weights=str(path), **TINY)
    np.testing.assert_allclose(_predict(via_option, x), _predict(source, x), rtol=1e-5, atol=1e-6)


def test_hdf5_import_falls_back_to_layer_order(tmp_path):
    source = build_ribeiro(SHAPE, 3, **TINY)
    names = {**keras2_layer_names(source), "predictions": "dense_1"}
    path = _write_keras2_hdf5(tmp_path / "renamed.hdf5", source, names)
    target = load_ribeiro_hdf5(build_ribeiro(SHAPE, 3, **TINY), path)
    np.testing.assert_allclose(_predict(target, _x()), _predict(source, _x()), rtol=1e-5, atol=1e-6)


def test_hdf5_import_shape_mismatch_is_clear(tmp_path):
    path = _write_keras2_hdf5(tmp_path / "model.hdf5", build_ribeiro(SHAPE, 3, **TINY))
    with pytest.raises(ValueError, match="shape mismatch for 'predictions'"):
        load_ribeiro_hdf5(build_ribeiro(SHAPE, 5, **TINY), path)


@pytest.fixture
def run_dir(tmp_path):
    model = build_ribeiro(SHAPE, 3, **TINY)
    model.save(tmp_path / "model.keras")
    return tmp_path, model


def test_transfer_from_run_folder(run_dir):
    folder, source = run_dir
    model = get_model("ribeiro_transfer", (512, 12), 4, init_from=str(folder), freeze=5)
    assert model.output_shape == (None, 4)
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    weighted = [layer for layer in model.layers if layer.weights]
    assert [layer.trainable for layer in weighted[:6]] == [False] * 5 + [True]
    assert [layer.name for layer in weighted[:5]] == ["stem_conv", "stem_bn", "res1_conv1", "res1_bn1", "res1_conv2"]
    np.testing.assert_array_equal(model.get_layer("res4_conv2").get_weights()[0],
                                  source.get_layer("res4_conv2").get_weights()[0])
    head = [layer for layer in model.layers if layer.name.startswith("transfer_")]
    assert sum(isinstance(layer, keras.layers.Conv1D) for layer in head) == 3
    assert sum(isinstance(layer, keras.layers.Dense) for layer in head) == 3
    assert "flatten" not in [layer.name for layer in model.layers]


def test_transfer_train_step_keeps_frozen_weights(run_dir):
    folder, _ = run_dir
    model = build_ribeiro_transfer((256, 12), 2, init_from=str(folder / "model.keras"), freeze=7)
    frozen_before = model.get_layer("res1_conv2").get_weights()[0].copy()
    free_before = model.get_layer("res2_conv1").get_weights()[0].copy()
    model.compile(optimizer="adam", loss="binary_crossentropy", run_eagerly=True)
    model.train_on_batch(_x(), np.array([[1, 0], [0, 1]], dtype="float32"))
    np.testing.assert_array_equal(model.get_layer("res1_conv2").get_weights()[0], frozen_before)
    assert not np.allclose(model.get_layer("res2_conv1").get_weights()[0], free_before)


def test_transfer_from_published_hdf5_and_cut_layer(tmp_path):
    source = build_ribeiro(SHAPE, 3, **TINY)
    path = _write_keras2_hdf5(tmp_path / "model.hdf5", source)
    model = build_ribeiro_transfer(SHAPE, 2, init_from=str(path), cut_layer="res2_drop2", freeze=0)
    assert "res3_conv1" not in [layer.name for layer in model.layers]
    assert all(layer.trainable for layer in model.layers)
    np.testing.assert_array_equal(model.get_layer("stem_conv").get_weights()[0],
                                  source.get_layer("stem_conv").get_weights()[0])
    with pytest.raises(ValueError, match="cut_layer 'nope'.*stem_conv"):
        build_ribeiro_transfer(SHAPE, 2, init_from=str(path), cut_layer="nope")
    with pytest.raises(ValueError, match="leads"):
        build_ribeiro_transfer((256, 1), 2, init_from=str(path))
    with pytest.raises(FileNotFoundError):
        build_ribeiro_transfer(SHAPE, 2, init_from=str(tmp_path / "missing"))


def test_unfreeze(run_dir):
    folder, _ = run_dir
    model = build_ribeiro_transfer(SHAPE, 2, init_from=str(folder), freeze=5)
    unfreeze(model, n_layers=2)
    flags = [layer.trainable for layer in model.layers if layer.weights][:6]
    assert flags == [False, False, False, True, True, True]
    assert get_entry("ribeiro_transfer").unfreeze(model) is model
    assert all(layer.trainable for layer in model.layers)


def test_missing_weights_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        build_ribeiro(SHAPE, 3, weights=str(tmp_path / "imagenet"), **TINY)
    model = build_ribeiro(SHAPE, 3, weights="none", **TINY)
    assert model.output_shape == (None, 3)
