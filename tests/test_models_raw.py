"""Shared checks for every raw-signal model in the registry (tiny inputs, batch 2)."""

import numpy as np
import pytest

import keras

from ecgtf.models import get_entry, get_model, list_models, register_model

INPUT_SHAPE = (512, 12)
NUM_CLASSES = 3
# Smaller widths keep the file fast; the architectures are unchanged.
TINY_OPTIONS = {
    "ribeiro": {"filters": (16, 16, 24, 32, 40)},
    "resnet1d18": {"width": 16},
    "resnet1d34": {"width": 16},
    "compact1d": {"filters": (16, 16, 24, 24, 32), "stem_filters": 16},
}
# Transfer models need a pretrained model; tested in test_ribeiro.py.
RAW_MODELS = [name for name in list_models("raw") if name != "ribeiro_transfer"]


def _build(name, **extra):
    return get_model(name, INPUT_SHAPE, NUM_CLASSES, **{**TINY_OPTIONS.get(name, {}), **extra})


def _batch(n=2):
    return np.random.default_rng(0).normal(0.0, 0.5, (n, *INPUT_SHAPE)).astype("float32")


def test_raw_models_are_registered():
    assert {"ribeiro", "resnet1d18", "resnet1d34", "compact1d", "ribeiro_transfer"} <= set(list_models("raw"))
    assert get_entry("ribeiro_transfer").unfreeze is not None


@pytest.mark.parametrize("name", RAW_MODELS)
def test_output_shape_no_nan_and_flat(name):
    model = _build(name)
    y = keras.ops.convert_to_numpy(model(_batch(), training=False))
    assert y.shape == (2, NUM_CLASSES)
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    assert model.layers[-1].name == "predictions"
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)


@pytest.mark.parametrize("name", RAW_MODELS)
def test_one_train_step_updates_weights(name):
    model = _build(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", run_eagerly=True)
    y = np.array([[1, 0, 1], [0, 1, 0]], dtype="float32")
    before = model.get_layer("predictions").get_weights()[0].copy()
    loss = model.train_on_batch(_batch(), y)
    assert np.isfinite(loss)
    assert not np.allclose(before, model.get_layer("predictions").get_weights()[0])


@pytest.mark.parametrize("name", RAW_MODELS)
def test_keras_file_round_trip_same_predictions(name, tmp_path):
    model = _build(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    x = _batch()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)),
                               keras.ops.convert_to_numpy(loaded(x, training=False)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", RAW_MODELS)
def test_config_round_trip_same_architecture(name):
    model = _build(name)
    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()


@pytest.mark.parametrize("name", ["resnet1d18", "compact1d"])
def test_softmax_and_variable_length(name):
    model = get_model(name, (None, 12), 4, activation="softmax", **TINY_OPTIONS[name])
    for samples in (300, 512):
        y = keras.ops.convert_to_numpy(model(_batch()[:, :samples], training=False))
        assert y.shape == (2, 4)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet_depths_differ():
    r18, r34 = _build("resnet1d18"), _build("resnet1d34")
    count = lambda m: sum(isinstance(layer, keras.layers.Conv1D) for layer in m.layers)  # noqa: E731
    # stem + 2 per block + projections at stages 2-4
    assert count(r18) == 1 + 2 * 8 + 3
    assert count(r34) == 1 + 2 * 16 + 3


def test_unknown_name_lists_valid_names():
    with pytest.raises(KeyError, match="resnet1d18") as info:
        get_model("resnet18", INPUT_SHAPE, NUM_CLASSES)
    assert "compact1d" in str(info.value)


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_model("compact1d", input_kind="raw")(lambda input_shape, num_classes: None)


@pytest.mark.parametrize("name", RAW_MODELS)
def test_builders_accept_the_trainer_options(name):
    import inspect

    builder = get_entry(name).builder
    params = inspect.signature(builder).parameters
    run_keys = {"activation": "softmax", "weights": None, "init_from": None, "freeze": 5}
    options = {**{k: v for k, v in run_keys.items() if k in params}, **TINY_OPTIONS.get(name, {})}
    model = builder(INPUT_SHAPE, NUM_CLASSES, **options)
    y = keras.ops.convert_to_numpy(model(_batch(), training=False))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
