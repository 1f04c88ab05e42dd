"""Per-lead attribution (integrated gradients / gradient x input) and its drawing in plot_raw."""

import keras
import matplotlib.image as mpimg
import numpy as np
import pytest

from ecgtf.explain import overlay
from ecgtf.explain.gradcam import ATTRIBUTION_METHODS, input_attribution, lead_attribution

SAMPLES, LEADS = 96, 4
BUMP = (30, 60)        # class 1: a bump in one lead, samples 30-60


def _only_lead_model(lead: int) -> keras.Model:
    """Functional 3-class model whose logits read lead ``lead`` only (all other input weights are 0).

    Class 1's logit is the mean rectified, smoothed amplitude of that lead (> 0 for any
    non-flat signal); classes 0 and 2 have constant logits.
    """
    inp = keras.Input((SAMPLES, LEADS))
    conv = keras.layers.Conv1D(2, 5, padding="same", activation="relu", use_bias=False)
    x = keras.layers.GlobalAveragePooling1D()(conv(inp))
    head = keras.layers.Dense(3, activation="softmax", name="predictions")
    model = keras.Model(inp, head(x))
    kernel = np.zeros((5, LEADS, 2), np.float32)
    kernel[:, lead, 0], kernel[:, lead, 1] = 0.2, -0.2       # |smoothed lead|
    conv.set_weights([kernel])
    head.set_weights([np.array([[0.0, 1.0, 0.0]] * 2, np.float32), np.array([0.5, 0.0, -0.5], np.float32)])
    return model


def _signals(n, lead, rng):
    x = rng.normal(0.0, 0.3, size=(n, SAMPLES, LEADS)).astype(np.float32)
    y = np.arange(n) % 2
    x[y == 1, BUMP[0]:BUMP[1], lead] += 1.5 * np.sin(np.linspace(0, np.pi, BUMP[1] - BUMP[0]))
    return x, y.astype(np.float32)[:, None]


def _trained_sequential(lead: int):
    """A small binary Sequential conv net trained to find a bump in lead ``lead``; test batch and accuracy."""
    keras.utils.set_random_seed(lead)
    x, y = _signals(256, lead, np.random.default_rng(lead))
    model = keras.Sequential([
        keras.Input((SAMPLES, LEADS)),
        keras.layers.Conv1D(8, 7, padding="same", activation="relu"),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(8, 5, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid", name="predictions"),
    ])
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    x_test, y_test = _signals(32, lead, np.random.default_rng(100 + lead))
    acc = float(np.mean((model.predict(x_test, verbose=0) >= 0.5) == y_test))
    return model, x_test, y_test, acc


def _logits(model, x):
    """Pre-activation outputs of the ``predictions`` Dense layer."""
    head = model.get_layer("predictions")
    feats = keras.Model(model.inputs[0], head.input)(x, training=False)
    return np.asarray(feats) @ head.kernel.numpy() + head.bias.numpy()


@pytest.mark.parametrize("lead", [0, 2, 3])
@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_known_answer_hand_set_model(lead, method):
    x = np.random.default_rng(lead).normal(0.0, 1.0, size=(3, SAMPLES, LEADS)).astype(np.float32)
    scores = lead_attribution(_only_lead_model(lead), x, class_index=1, method=method)
    assert scores.shape == (3, LEADS) and scores.dtype == np.float32
    assert (scores.argmax(axis=1) == lead).all(), scores
    others = np.delete(scores, lead, axis=1)
    assert (scores[:, lead] > 0.1).all() and np.abs(others).max() < 1e-6, scores


@pytest.mark.parametrize("lead", [1, 3])
def test_known_answer_trained_model(lead):
    model, x, y, acc = _trained_sequential(lead)
    assert acc > 0.9
    pos = x[y[:, 0] == 1]
    scores = lead_attribution(model, pos, class_index=1)
    mean = scores.mean(axis=0)
    assert mean.argmax() == lead, mean
    assert mean[lead] > 3.0 * np.abs(np.delete(mean, lead)).max(), mean
    assert (scores.argmax(axis=1) == lead).mean() >= 0.9, scores
    # and the time map puts the lead's evidence on the bump
    per_sample = input_attribution(model, pos, class_index=1)[:, :, lead]
    assert per_sample[:, BUMP[0]:BUMP[1]].sum() > 0.7 * per_sample.sum()


def test_integrated_gradients_add_up_to_the_logit_difference():
    model = _only_lead_model(1)
    x = np.random.default_rng(0).normal(size=(4, SAMPLES, LEADS)).astype(np.float32)
    scores = lead_attribution(model, x, class_index=1, steps=64)
    expected = _logits(model, x)[:, 1] - _logits(model, np.zeros_like(x))[:, 1]
    np.testing.assert_allclose(scores.sum(axis=1), expected, rtol=1e-3, atol=1e-5)


def test_binary_class_zero_is_the_negative_of_class_one():
    model, x, _, _ = _trained_sequential(1)
    one = lead_attribution(model, x[:4], class_index=1, steps=16)
    zero = lead_attribution(model, x[:4], class_index=0, steps=16)
    np.testing.assert_allclose(zero, -one, rtol=1e-4, atol=1e-6)
    default = lead_attribution(model, x[:4], steps=16)        # each example's predicted class
    pred = (model.predict(x[:4], verbose=0)[:, 0] >= 0.5)
    np.testing.assert_allclose(default, np.where(pred[:, None], one, zero), rtol=1e-4, atol=1e-6)


def test_gradient_x_input_equals_integrated_gradients_for_a_linear_model():
    inp = keras.Input((SAMPLES, LEADS))
    out = keras.layers.Dense(2, activation="softmax", name="predictions")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    x = np.random.default_rng(3).normal(size=(2, SAMPLES, LEADS)).astype(np.float32)
    ig = input_attribution(model, x, class_index=[0, 1], steps=5)
    gxi = input_attribution(model, x, class_index=[0, 1], method="gradient_x_input")
    assert ig.shape == x.shape
    np.testing.assert_allclose(ig, gxi, rtol=1e-4, atol=1e-6)


def test_bad_arguments():
    model = _only_lead_model(0)
    x = np.zeros((1, SAMPLES, LEADS), np.float32)
    with pytest.raises(ValueError, match="integrated_gradients, gradient_x_input"):
        lead_attribution(model, x, method="lime")
    with pytest.raises(ValueError, match="steps"):
        lead_attribution(model, x, steps=0)
    with pytest.raises(ValueError, match="class_index"):
        lead_attribution(model, x, class_index=3)
    image = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="raw-signal"):
        lead_attribution(image, np.zeros((1, 8, 8, 3), np.float32))


# --------------------------------------------------------------------------- plot_raw


def _twelve_leads():
    rng = np.random.default_rng(0)
    t = np.arange(500) / 50.0
    signal = np.stack([0.5 * np.sin(2 * np.pi * 1.1 * t + i) + 0.05 * rng.normal(size=t.size) for i in range(12)], 1)
    heat = np.exp(-((t - 4.0) / 0.6) ** 2)
    return signal.astype(np.float32), heat.astype(np.float32)


def _capture(monkeypatch):
    figures = []
    monkeypatch.setattr(overlay, "_save", lambda fig, path, dpi: figures.append(fig) or path)
    return figures


@pytest.mark.parametrize("with_scores", [False, True])
def test_plot_raw_draws_the_heatmap_once(monkeypatch, with_scores):
    signal, heat = _twelve_leads()
    scores = np.linspace(-1.0, 2.0, 12) if with_scores else None
    figures = _capture(monkeypatch)
    overlay.plot_raw(signal, heat, 50.0, "unused.png", lead_names=[f"L{i}" for i in range(12)], title="t",
                     lead_scores=scores)
    fig = figures[0]
    images = [image for ax in fig.axes for image in ax.images]
    assert len(images) == 1                                       # one band, not one per lead
    np.testing.assert_allclose(images[0].get_array().ravel(), heat, rtol=1e-6)
    texts = [text.get_text() for ax in fig.axes for text in ax.texts]
    bars = [patch for ax in fig.axes for patch in ax.patches]
    if with_scores:
        assert len(bars) == 12
        assert np.allclose(sorted(bar.get_width() for bar in bars), sorted(scores))
        assert "+2" in texts and "-1" in texts
    else:
        assert bars == []
    shown = [label.get_text() for ax in fig.axes for label in ax.get_yticklabels() if label.get_visible()]
    assert [name for name in shown if name.startswith("L")] == [f"L{i}" for i in range(12)]


def test_plot_raw_with_lead_scores_writes_png(tmp_path):
    signal, heat = _twelve_leads()
    out = overlay.plot_raw(signal, heat, 50.0, str(tmp_path / "sub" / "raw.png"),
                           lead_names="I II III aVR aVL aVF V1 V2 V3 V4 V5 V6".split(), title="record: MI",
                           lead_scores=np.linspace(-0.5, 1.5, 12))
    image = mpimg.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) > 300 and image[..., :3].std() > 0.02
    assert overlay.plot_raw(signal[:, :1], heat, 50.0, str(tmp_path / "one.png")) == str(tmp_path / "one.png")
    with pytest.raises(ValueError, match="one value per lead"):
        overlay.plot_raw(signal, heat, 50.0, str(tmp_path / "bad.png"), lead_scores=[1.0, 2.0])
