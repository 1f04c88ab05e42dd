"""Printout models (image_resnet50/101, mobilenetv3_small_custom, convlstm_leads): shapes, a train
step, save/load, parameter count, two-phase fine-tuning, per-lead Grad-CAM."""

import keras
import numpy as np
import pytest

from ecgtf.explain.gradcam import candidate_layers, gradcam
from ecgtf.models import get_entry, get_model, list_models
from ecgtf.models.backbones import BackboneWeightsError
from ecgtf.models.image_cnn import unfreeze_top

SHAPES = {"image": (32, 48, 3), "lead_images": (3, 16, 32, 3)}
TINY = {"convlstm_leads": {"stem_filters": (4,), "lstm_filters": 4}, "mobilenetv3_small_custom": {"width": 0.5}}


#: ResNets train a step in minutes on the shared 2-core machine: opt-in (``--run-slow``).
SLOW = {"image_resnet50", "image_resnet101"}


def _models():
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
            for n in list_models("image") + list_models("lead_images")]


def _build(name, classes=3):
    entry = get_entry(name)
    options = dict(TINY.get(name, {}))
    if "weights" in __import__("inspect").signature(entry.builder).parameters:
        options["weights"] = None
    return get_model(name, SHAPES[entry.input_kind], classes, **options)


def test_printout_models_are_registered():
    assert {"image_resnet50", "image_resnet101", "mobilenetv3_small_custom"} <= set(list_models("image"))
    assert list_models("lead_images") == ["convlstm_leads"]


@pytest.mark.parametrize("name", _models())
def test_output_train_step_and_round_trip(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _build(name)
    shape = SHAPES[get_entry(name).input_kind]
    x = np.random.default_rng(0).random((2, *shape)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 2]]
    out = np.asarray(model(x))
    assert out.shape == (2, 3) and np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    assert model.layers[-1].name == "predictions"
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss = float(model.train_on_batch(x, y))
    assert np.isfinite(loss) and any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    if name == "image_resnet101":
        return  # 170 MB file; ResNet50 covers the same code
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(np.asarray(again(x, training=False)), np.asarray(model(x, training=False)), atol=1e-5)


def test_mobilenet_has_about_150k_parameters_whatever_the_image_size():
    counts = {size: get_model("mobilenetv3_small_custom", (*size, 3), 2).count_params()
              for size in ((64, 128), (192, 384))}
    assert len(set(counts.values())) == 1
    assert 150_000 * 0.85 <= counts[(64, 128)] <= 150_000 * 1.15, counts


def test_no_hard_coded_shapes():
    for size in ((40, 40, 3), (96, 200, 3)):
        assert get_model("mobilenetv3_small_custom", size, 2).output_shape == (None, 2)
    for size in ((12, 16, 64, 3), (2, 32, 32, 3)):
        assert get_model("convlstm_leads", size, 1, activation="sigmoid").output_shape == (None, 1)
    with pytest.raises(ValueError, match="raise image_size"):
        get_model("convlstm_leads", (12, 8, 64, 3), 2)
    with pytest.raises(ValueError, match="disagrees"):
        get_model("mobilenetv3_small_custom", (64, 64, 3), 2, image_size=(32, 32))


@pytest.mark.parametrize("name", ["image_resnet50", "image_resnet101"])
def test_resnet_output(name):
    model = get_model(name, (32, 32, 3), 2, weights=None)
    x = np.random.default_rng(0).random((1, 32, 32, 3)).astype(np.float32)
    out = np.asarray(model(x))
    assert out.shape == (1, 2) and np.isfinite(out).all() and model.get_layer("caffe_input")


def test_resnet_two_phases_and_weights_errors():
    model = get_model("image_resnet50", (32, 32, 3), 2, weights=None, frozen=True)
    trainable = {layer.name for layer in model.layers if layer.trainable and layer.weights}
    assert trainable == {"predictions"}
    unfreeze_top(model)
    now = {layer.name for layer in model.layers if layer.trainable and layer.weights}
    assert "conv5_block3_3_conv" in now and "conv4_block6_3_conv" not in now
    assert not any(isinstance(model.get_layer(n), keras.layers.BatchNormalization) for n in now)  # BN stays frozen
    assert get_entry("image_resnet50").unfreeze is not None
    with pytest.raises(BackboneWeightsError, match="--weights none"):
        get_model("image_resnet50", (32, 32, 3), 2, weights="/no/such/weights.h5")


def test_per_lead_gradcam_stays_on_the_lead_that_has_a_trace():
    keras.utils.set_random_seed(1)
    model = get_model("convlstm_leads", (4, 16, 32, 3), 2, stem_filters=(4,), lstm_filters=4)
    assert "stem1_relu" in candidate_layers(model) and "convlstm" in candidate_layers(model)
    x = np.zeros((1, 4, 16, 32, 3), np.float32)
    x[0, 2] = np.random.default_rng(0).random((16, 32, 3))  # only lead 3 shows anything
    maps = [gradcam(model, x, class_index=c, layer="stem1_relu") for c in (0, 1)]
    maps.append(gradcam(model, x, class_index=0, method="saliency"))
    assert all(m.shape == (1, 4, 16, 32) and 0.0 <= m.min() and m.max() <= 1.0 for m in maps)
    lit = [m for m in maps if m.max() > 0]
    assert len(lit) >= 2  # saliency and at least one class map
    for m in lit:
        assert m[0, [0, 1, 3]].max() == 0.0 and m[0, 2].max() == pytest.approx(1.0)
    default = gradcam(model, x)  # the default layer: the ConvLSTM states, one map per lead
    assert default.shape == (1, 4, 16, 32)
