"""The small spectrogram CNN (ecgtf.models.spectrogram_cnn)."""

import keras
import numpy as np
import pytest

from ecgtf.models import get_entry, get_model, list_models


def test_registered_for_spectrograms_with_multires_defaults():
    assert "spectrogram_cnn" in list_models("spectrogram")
    entry = get_entry("spectrogram_cnn")
    assert entry.input_kind == "spectrogram"
    assert entry.defaults["model_options"]["channels"] == "multires"
    assert entry.defaults["duration_s"] == 2 * entry.defaults["eval_hop_s"]


@pytest.mark.parametrize("shape", [(75, 75, 3), (64, 120, 3)])
def test_builds_any_image_size_and_predicts_probabilities(shape):
    model = get_model("spectrogram_cnn", shape, 4)
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype("float32")
    y = model.predict_on_batch(x)
    assert y.shape == (2, 4)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert model.get_layer("stage3_relu").output.shape[-1] == 128
    assert 150_000 < model.count_params() < 250_000


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match="at least 16x16"):
        get_model("spectrogram_cnn", (8, 75, 3), 4)
    with pytest.raises(ValueError, match="disagrees"):
        get_model("spectrogram_cnn", (75, 75, 3), 4, image_size=(99, 99))


def test_learns_a_bright_band():
    """Images with a bright row band in the top or bottom half: separable after a few steps."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 32, 32, 3)).astype("float32") * 0.3
    y = rng.integers(0, 2, 64)
    for i, label in enumerate(y):
        x[i, (4 if label else 20):(4 if label else 20) + 6] += 2.0
    keras.utils.set_random_seed(0)
    model = get_model("spectrogram_cnn", (32, 32, 3), 2, dropout=0.0)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
