"""Grad-CAM library: known-answer localisation for 1-D and 2-D models, shapes, errors."""

import keras
import numpy as np
import pytest

from ecgtf.explain import candidate_layers, find_layer, gradcam
from ecgtf.explain.gradcam import METHODS, upsample_1d

SAMPLES, LEADS, BUMP_LEAD, BUMP = 512, 4, 2, (200, 260)   # class 1: a bump in lead 3, samples 200-260
SIZE, PATCH = 32, (4, 12)                                   # class 1: a bright patch rows/cols 4-12
MARGIN_1D, MARGIN_2D = 8, 2


def _signals(n, rng):
    x = rng.normal(0.0, 0.2, size=(n, SAMPLES, LEADS)).astype(np.float32)
    y = np.arange(n) % 2
    bump = np.sin(np.linspace(0, np.pi, BUMP[1] - BUMP[0])).astype(np.float32)
    x[y == 1, BUMP[0]:BUMP[1], BUMP_LEAD] += bump
    return x, y.astype(np.float32)[:, None]


def _images(n, rng):
    x = rng.normal(0.0, 0.3, size=(n, SIZE, SIZE, 3)).astype(np.float32)
    y = np.arange(n) % 2
    x[y == 1, PATCH[0]:PATCH[1], PATCH[0]:PATCH[1], :] += 1.5
    return x, keras.utils.to_categorical(y, 2).astype(np.float32)


def _cnn_1d():
    inp = keras.Input((SAMPLES, LEADS))
    x = keras.layers.Conv1D(8, 7, padding="same", activation="relu")(inp)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Conv1D(16, 7, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Conv1D(16, 5, padding="same", activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid", name="predictions")(x))


def _cnn_2d():
    inp = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax", name="predictions")(x))


@pytest.fixture(scope="module")
def trained_1d():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x, y = _signals(256, rng)
    model = _cnn_1d()
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    x_test, y_test = _signals(64, np.random.default_rng(2))
    acc = float(np.mean((model.predict(x_test, verbose=0) >= 0.5) == y_test))
    return model, x_test, y_test, acc


@pytest.fixture(scope="module")
def trained_2d():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x, y = _images(256, rng)
    model = _cnn_2d()
    model.compile(keras.optimizers.Adam(1e-2), "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    x_test, y_test = _images(64, np.random.default_rng(2))
    acc = float(np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test.argmax(1)))
    return model, x_test, y_test, acc


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_known_answer_1d(trained_1d, method):
    model, x, y, acc = trained_1d
    assert acc > 0.95
    pos = x[y[:, 0] == 1]
    heat = gradcam(model, pos, class_index=1, method=method)
    assert heat.shape == (len(pos), SAMPLES)
    lo, hi = BUMP[0] - MARGIN_1D, BUMP[1] + MARGIN_1D
    mass = heat[:, lo:hi].sum(1) / np.maximum(heat.sum(1), 1e-12)
    assert np.mean(mass) > 0.6, mass


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_known_answer_2d(trained_2d, method):
    model, x, y, acc = trained_2d
    assert acc > 0.95
    pos = x[y[:, 1] == 1]
    heat = gradcam(model, pos, class_index=1, method=method)
    assert heat.shape == (len(pos), SIZE, SIZE)
    lo, hi = PATCH[0] - MARGIN_2D, PATCH[1] + MARGIN_2D
    mass = heat[:, lo:hi, lo:hi].sum((1, 2)) / np.maximum(heat.sum((1, 2)), 1e-12)
    assert np.mean(mass) > 0.6, mass


def test_known_answer_predicted_class_default(trained_1d):
    model, x, y, _ = trained_1d
    pos = x[y[:, 0] == 1][:4]
    np.testing.assert_allclose(gradcam(model, pos), gradcam(model, pos, class_index=1), atol=1e-6)


@pytest.mark.parametrize("method", list(METHODS))
def test_shapes_and_range(method):
    rng = np.random.default_rng(0)
    one_d, two_d = _cnn_1d(), _cnn_2d()
    h1 = gradcam(one_d, rng.normal(size=(2, SAMPLES, LEADS)), class_index=[0, 1], method=method)
    h2 = gradcam(two_d, rng.normal(size=(3, SIZE, SIZE, 3)), class_index=1, method=method)
    assert h1.shape == (2, SAMPLES) and h2.shape == (3, SIZE, SIZE)
    for h in (h1, h2):
        assert h.dtype == np.float32 and np.isfinite(h).all()
        assert h.min() >= 0.0 and h.max() <= 1.0


def test_saliency_localises_bump(trained_1d):
    model, x, y, _ = trained_1d
    pos = x[y[:, 0] == 1][:8]
    heat = gradcam(model, pos, class_index=1, method="saliency")
    inside = heat[:, BUMP[0]:BUMP[1]].mean()
    outside = np.concatenate([heat[:, :BUMP[0] - 40], heat[:, BUMP[1] + 40:]], axis=1).mean()
    assert inside > outside


def test_caller_model_keeps_its_activation(trained_2d):
    model, x, _, _ = trained_2d
    before = model.predict(x[:2], verbose=0)
    gradcam(model, x[:2], method="gradcam")
    np.testing.assert_allclose(model.predict(x[:2], verbose=0), before, rtol=1e-6)
    np.testing.assert_allclose(before.sum(1), 1.0, rtol=1e-5)   # still softmax


def test_default_layer_and_candidates():
    model = _cnn_1d()
    assert find_layer(model).name == "last_conv"
    assert "last_conv" in candidate_layers(model)
    assert find_layer(_cnn_2d(), "last_conv").name == "last_conv"


def test_bad_layer_lists_candidates():
    with pytest.raises(ValueError, match="last_conv"):
        gradcam(_cnn_2d(), np.zeros((1, SIZE, SIZE, 3)), layer="predictions")


def test_bad_method_lists_methods():
    with pytest.raises(ValueError, match="gradcam, gradcam\\+\\+, saliency"):
        gradcam(_cnn_1d(), np.zeros((1, SAMPLES, LEADS)), method="lime")


def test_bad_class_index():
    with pytest.raises(ValueError, match="class_index"):
        gradcam(_cnn_2d(), np.zeros((1, SIZE, SIZE, 3)), class_index=2)


def test_upsample_1d_linear():
    out = upsample_1d(np.array([[0.0, 1.0]]), 8)
    assert out.shape == (1, 8)
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0
    assert np.all(np.diff(out[0]) >= 0)


def test_default_layer_skips_maps_too_small_to_localise():
    import keras

    from ecgtf.explain.gradcam import find_layer

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="fine")(inputs)
    x = keras.layers.Conv2D(4, 3, strides=8, padding="same", name="coarse")(x)   # 4x4
    x = keras.layers.Conv2D(4, 4, strides=4, padding="same", name="one_cell")(x)  # 1x1
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    assert find_layer(model).name == "coarse"
    assert find_layer(model, "one_cell").name == "one_cell"
