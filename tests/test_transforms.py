"""Signal transforms: checked against SciPy and against the property each one promises."""

import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from ecgtf.data import transforms
from ecgtf.data.augment import AugmentConfig, add_baseline_wander, augment, scale_amplitude, time_shift
from ecgtf.inputs.layers import CenterCropOrPad, Standardize

FS = 250.0


def tone(freq_hz, seconds=8.0, fs=FS, amp_mv=1.0):
    t = np.arange(int(seconds * fs)) / fs
    return (amp_mv * np.sin(2 * np.pi * freq_hz * t))[:, None].astype(np.float32)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x[500:-500]))))


def test_bandpass_keeps_band_and_removes_outside():
    assert rms(transforms.bandpass(tone(10), FS)) == pytest.approx(rms(tone(10)), rel=0.02)
    assert rms(transforms.bandpass(tone(0.1), FS)) < 0.05 * rms(tone(0.1))
    assert rms(transforms.bandpass(tone(80), FS)) < 0.05 * rms(tone(80))
    # Same as SciPy's zero-phase Butterworth on the same signal.
    x = np.random.default_rng(0).standard_normal((1000, 2)).astype(np.float32)
    sos = scipy.signal.butter(4, [0.5, 40], btype="bandpass", fs=FS, output="sos")
    np.testing.assert_allclose(transforms.bandpass(x, FS), scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=27),
                               atol=1e-4)


def test_notch_removes_powerline():
    x = tone(10) + tone(50, amp_mv=0.5)
    y = transforms.notch(x, FS, 50.0)
    spec = np.abs(np.fft.rfft(y[250:-250, 0]))
    freqs = np.fft.rfftfreq(len(y) - 500, 1 / FS)
    assert spec[np.argmin(abs(freqs - 50))] < 0.05 * spec[np.argmin(abs(freqs - 10))]


def test_remove_baseline_removes_slow_drift():
    beats = np.zeros((int(10 * FS), 1), np.float32)
    beats[:: int(FS)] = 1.0
    drift = tone(0.2, seconds=10, amp_mv=0.8)
    y = transforms.remove_baseline(beats + drift, FS)
    assert np.abs(y - beats).mean() < 0.05


def test_resample_matches_scipy_resample_poly():
    x = tone(5, seconds=4, fs=257)
    y = transforms.resample(x, 257, 500)
    np.testing.assert_allclose(y, scipy.signal.resample_poly(x, 500, 257, axis=0), atol=1e-5)
    assert y.shape[0] == int(np.ceil(x.shape[0] * 500 / 257))
    # The tone keeps its frequency.
    peak = np.fft.rfftfreq(y.shape[0], 1 / 500)[np.argmax(np.abs(np.fft.rfft(y[:, 0])))]
    assert peak == pytest.approx(5, abs=0.3)
    assert transforms.resample(x, 257, 257) .shape == x.shape


def test_pad_or_crop_modes():
    x = np.arange(10, dtype=np.float32)[:, None]
    assert transforms.pad_or_crop(x, 4)[:, 0].tolist() == [3, 4, 5, 6]
    assert transforms.pad_or_crop(x, 4, start=0)[:, 0].tolist() == [0, 1, 2, 3]
    assert transforms.pad_or_crop(x, 4, start=9)[:, 0].tolist() == [2, 3, 4, 5]  # 9 mod 7 possible starts
    padded = transforms.pad_or_crop(x[:2], 6)
    assert padded[:, 0].tolist() == [0, 0, 0, 1, 0, 0]
    assert transforms.pad_or_crop(x[:2], 4, pad_mode="end")[:, 0].tolist() == [0, 1, 0, 0]
    with pytest.raises(ValueError, match="pad_mode"):
        transforms.pad_or_crop(x, 4, pad_mode="middle")


@pytest.mark.parametrize("n", [7, 10, 11, 16, 23])
def test_crop_or_pad_layer_matches_numpy(n):
    x = np.random.default_rng(n).standard_normal((2, n, 3)).astype(np.float32)
    layer = CenterCropOrPad(10)
    dynamic = keras.Sequential([keras.Input((None, 3)), layer])
    for i in range(2):
        np.testing.assert_array_equal(np.asarray(dynamic(x))[i], transforms.pad_or_crop(x[i], 10))


def test_standardize_layer():
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 400, 12)).astype(np.float32)
    out = np.asarray(Standardize()(x))
    ref = (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert np.allclose(out.mean(1), 0, atol=1e-5) and np.allclose(out.std(1), 1, atol=1e-3)


def test_decode_signal_resamples_then_filters():
    x = tone(5, seconds=4) + 1.0  # offset removed by the band-pass
    y = transforms.decode_signal(x, FS, 250, "bandpass")
    ref = transforms.bandpass(transforms.resample(x, FS, 250), 250, 0.5, 40.0)
    np.testing.assert_array_equal(y, ref)
    assert abs(float(y.mean())) < 0.05
    np.testing.assert_array_equal(transforms.decode_signal(x, FS, FS), x)
    with pytest.raises(ValueError, match="signal_filter"):
        transforms.decode_signal(x, FS, FS, "lowpass")


def test_augmentations_change_signal_within_bounds():
    tf.random.set_seed(0)
    x = tf.constant(tone(5, seconds=4))
    shifted = time_shift(x, FS, 0.2).numpy()
    lag = np.argmax(np.correlate(shifted[:, 0], x.numpy()[:, 0], "full")) - (len(x) - 1)
    assert abs(lag) <= 0.2 * FS
    ratio = scale_amplitude(x, 0.1).numpy().std() / x.numpy().std()
    assert 0.9 <= ratio <= 1.1
    wander = add_baseline_wander(tf.zeros((1000, 2)), FS, 0.3).numpy()
    assert np.abs(wander).max() <= 0.3 + 1e-6 and np.allclose(wander[:, 0], wander[:, 1])
    y = augment(x, FS, AugmentConfig()).numpy()
    assert y.shape == x.shape and not np.allclose(y, x.numpy())
