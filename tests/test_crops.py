"""Tests for ecgtf.data.crops: window coverage and padding-invariant averaged predictions."""

import keras
import numpy as np
import pytest

from ecgtf.data.crops import crop_windows, predict_averaged, valid_span, window_starts
from ecgtf.data.spectrogram import SpectrogramImage
from ecgtf.data.transforms import pad_or_crop

FS = 300


def _record(seconds, leads=1, seed=0):
    return np.random.default_rng(seed).standard_normal((int(seconds * FS), leads)).astype(np.float32)


@pytest.mark.parametrize("n,length,hop", [(1000, 300, None), (1000, 300, 128), (300, 300, 50), (301, 300, 1000)])
def test_windows_cover_every_sample(n, length, hop):
    starts = window_starts(n, length, hop)
    covered = np.zeros(n, bool)
    for s in starts:
        assert 0 <= s <= n - length
        covered[s:s + length] = True
    assert covered.all()
    assert starts[0] == 0 and starts[-1] == n - length


def test_crop_windows_content_and_max_crops():
    x = _record(10)
    w = crop_windows(x, 900, hop=450)
    assert w.shape == (len(window_starts(3000, 900, 450)), 900, 1)
    np.testing.assert_array_equal(w[0], x[:900])
    np.testing.assert_array_equal(w[-1], x[-900:])
    few = crop_windows(x, 900, hop=10, max_crops=3)
    assert few.shape[0] == 3
    np.testing.assert_array_equal(few[-1], x[-900:])


def test_short_record_is_centred_in_zeros():
    x = _record(2)  # 600 samples
    w = crop_windows(np.concatenate([x, np.zeros((500, 1), np.float32)]), 900)
    assert w.shape == (1, 900, 1)
    np.testing.assert_array_equal(w[0, 150:750], x)
    assert not w[0, :150].any() and not w[0, 750:].any()
    np.testing.assert_array_equal(pad_or_crop(x, 900), w[0])


def test_valid_span_and_crops():
    x = np.zeros((100, 2), np.float32)
    x[10:20, 1] = 1.0
    assert valid_span(x) == (10, 20)
    assert valid_span(np.zeros((5, 1))) == (0, 0)
    y = _record(5)
    np.testing.assert_array_equal(pad_or_crop(y, 300), y[600:900])


def _tiny_predict_fn(length):
    keras.utils.set_random_seed(0)
    spec = SpectrogramImage(FS, image_size=(16, 16))
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
    return lambda batch: model.predict_on_batch(spec(batch))


def test_prediction_invariant_to_trailing_padding():
    length = 9 * FS
    predict = _tiny_predict_fn(length)
    record = _record(20, seed=3)
    short = _record(5, seed=4)  # shorter than a window
    padded = [np.concatenate([r, np.zeros((int(s * FS), 1), np.float32)]) for r in (record, short) for s in (0, 10, 40)]
    probs = predict_averaged(predict, padded, length, hop=FS * 3, batch_size=8)
    assert probs.shape == (6, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs[1:3], probs[[0, 0]], atol=1e-6)
    np.testing.assert_allclose(probs[4:6], probs[[3, 3]], atol=1e-6)
    assert not np.allclose(probs[0], probs[3])  # the model does look at the signal


def test_predict_averaged_is_the_mean_over_windows():
    length = 300
    calls = []

    def predict(batch):
        calls.append(batch.shape)
        return np.stack([batch.mean(axis=(1, 2)), np.ones(batch.shape[0])], axis=1)

    signals = [_record(3, seed=i) for i in range(3)]
    probs = predict_averaged(predict, signals, length, hop=150, batch_size=4)
    expected = [crop_windows(s, length, 150).mean(axis=(1, 2)).mean() for s in signals]
    np.testing.assert_allclose(probs[:, 0], expected, rtol=1e-5, atol=1e-7)
    assert all(shape[0] == 4 for shape in calls)  # fixed batch shape
