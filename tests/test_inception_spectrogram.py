"""Tests for the inception_spectrogram model and ecgtf.models.backbones (weights=None, 75x75)."""

import keras
import numpy as np
import pytest

from ecgtf.models import get_entry, get_model
from ecgtf.models.backbones import BackboneWeightsError, resolve_weights
from ecgtf.models.inception_spectrogram import block_boundaries, build, freeze_backbone, unfreeze_top

SHAPE = (75, 75, 3)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return get_model("inception_spectrogram", SHAPE, 4, weights=None, frozen=True)


def _images(n=2):
    return np.random.default_rng(0).standard_normal((n, *SHAPE)).astype(np.float32)


def _n_trainable(m):
    return sum(int(np.prod(w.shape)) for w in m.trainable_weights)


def test_output_is_softmax(model):
    probs = model.predict_on_batch(_images())
    assert probs.shape == (2, 4)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"


def test_model_is_flat(model):
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)
    assert model.get_layer("conv_7b").output.shape[-1] == 1536
    assert model.get_layer("head_dense").units == 500


def test_freeze_and_unfreeze_top(model):
    assert _n_trainable(model) < 2_000_000  # built frozen: head only
    head = ["head_dense", "predictions"]
    assert {w.path.split("/")[0] for w in model.trainable_weights} == set(head)
    frozen = _n_trainable(model)
    unfreeze_top(model, n_blocks=1)
    one = _n_trainable(model)
    assert model.get_layer("conv_7b").trainable and not model.get_layer("conv_7b_bn").trainable
    assert not model.get_layer("block8_10_conv").trainable
    unfreeze_top(model, n_blocks=2)
    assert model.get_layer("block8_10_conv").trainable and not model.get_layer("block8_9_conv").trainable
    unfreeze_top(model)  # default: block8 stage + conv_7b
    default = _n_trainable(model)
    assert model.get_layer("block8_1_conv").trainable and not model.get_layer("block17_20_conv").trainable
    assert frozen < one < default < model.count_params()
    assert not any(layer.trainable for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert len(block_boundaries(model)) == 44  # stem, 10 + 20 + 10 residual blocks, 2 reductions, conv_7b
    assert get_entry("inception_spectrogram").unfreeze(freeze_backbone(model)) is model
    assert _n_trainable(model) == default


def test_weights_path_round_trip(model, tmp_path):
    backbone = keras.Model(model.input, model.get_layer("conv_7b_ac").output)
    weights_file = tmp_path / "backbone.weights.h5"
    backbone.save_weights(weights_file)
    model_file = tmp_path / "model.keras"
    model.save(model_file)
    expected = model.get_layer("conv_7b").get_weights()[0]
    for path in (weights_file, model_file):
        other = build(SHAPE, 3, weights=str(path))
        np.testing.assert_array_equal(other.get_layer("conv_7b").get_weights()[0], expected)
        assert other.get_layer("predictions").units == 3


def test_imagenet_failure_names_the_flags(monkeypatch):
    from keras.src.applications import inception_resnet_v2

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no internet")

    monkeypatch.setattr(inception_resnet_v2.file_utils, "get_file", offline)
    with pytest.raises(BackboneWeightsError, match="--weights none") as info:
        build(SHAPE, 4, weights="imagenet")
    assert "--weights PATH" in str(info.value)


def test_bad_inputs_raise_clearly(tmp_path):
    with pytest.raises(ValueError, match="at least 75x75"):
        build((64, 128, 3), 4, weights=None)
    with pytest.raises(BackboneWeightsError, match="not found"):
        resolve_weights(tmp_path / "missing.h5")
    assert resolve_weights("none") is None and resolve_weights(None) is None


def test_registry_entry():
    entry = get_entry("inception_spectrogram")
    assert entry.input_kind == "spectrogram"
    assert entry.defaults["batch_size"] == 16 and entry.defaults["optimizer"] == "adam"
    height, width = entry.defaults["model_options"]["image_size"]
    assert min(height, width) >= 75


@pytest.mark.slow
def test_frozen_train_step_changes_only_the_head(model):
    freeze_backbone(model)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    before_conv = model.get_layer("conv_7b").get_weights()[0].copy()
    before_bn = model.get_layer("conv_7b_bn").get_weights()[-1].copy()
    before_head = model.get_layer("predictions").get_weights()[0].copy()
    model.train_on_batch(_images(), np.eye(4, dtype=np.float32)[[0, 1]])
    np.testing.assert_array_equal(model.get_layer("conv_7b").get_weights()[0], before_conv)
    np.testing.assert_array_equal(model.get_layer("conv_7b_bn").get_weights()[-1], before_bn)
    assert not np.allclose(model.get_layer("predictions").get_weights()[0], before_head)


def test_random_init_trains_everything_with_faster_batchnorm():
    model = get_model("inception_spectrogram", SHAPE, 4, weights="none")
    assert all(layer.trainable for layer in model.layers)
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bn and all(layer.momentum == 0.9 for layer in bn)
