"""Tests for ecgtf.data.spectrogram: STFT magnitudes against SciPy, image shapes, the layer."""

import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from ecgtf.data.spectrogram import (CHANNEL_MODES, SpectrogramImage, frame_params, log_spectrogram,
                                    spectrogram_image, stft_magnitude)

FS = 300.0


def _signals(batch=2, seconds=4.0, leads=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    base = np.sin(2 * np.pi * 7.0 * t)[None, :, None] + 0.3 * rng.standard_normal((batch, t.size, leads))
    return base.astype(np.float32)


@pytest.mark.parametrize("window_s,hop_s,fft_length", [(0.5, 0.05, None), (0.85, 0.1, 512)])
def test_stft_magnitude_matches_scipy(window_s, hop_s, fft_length):
    x = _signals(batch=2, leads=2)
    nperseg, step, nfft = frame_params(FS, window_s, hop_s, fft_length)
    ours = stft_magnitude(x, FS, window_s, hop_s, fft_length).numpy()
    _, _, ref = scipy.signal.spectrogram(x, fs=FS, window="hann", nperseg=nperseg, noverlap=nperseg - step,
                                         nfft=nfft, detrend=False, scaling="spectrum", mode="magnitude", axis=1)
    # scipy with axis=1: (batch, freqs, leads, frames) -> ours: (batch, frames, freqs, leads)
    ref = np.transpose(ref, (0, 3, 1, 2))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_sinusoid_amplitude_and_frequency():
    t = np.arange(3000) / FS
    x = (2.0 * np.sin(2 * np.pi * 10.0 * t)).astype(np.float32)[None, :, None]
    mag = stft_magnitude(x, FS, 0.5, 0.05, 600).numpy()  # 0.5 Hz bins: 10 Hz is bin 20
    spectrum = mag[0, :, :, 0].mean(axis=0)
    assert spectrum.argmax() == 20
    assert spectrum.max() == pytest.approx(1.0, rel=1e-3)  # amplitude / 2 in mV


def test_log_spectrogram_crops_frequencies():
    x = _signals()
    spec = log_spectrogram(x, FS, 0.5, 0.05, None, max_freq_hz=50.0).numpy()
    _, _, nfft = frame_params(FS, 0.5, 0.05)
    assert spec.shape[2] == int(50.0 * nfft / FS) + 1  # bins 0..50 Hz
    assert (spec.shape[2] - 1) * FS / nfft <= 50.0
    assert np.isfinite(spec).all()


@pytest.mark.parametrize("leads,channels", [(1, "mean"), (12, "mean"), (12, "first3")])
def test_image_shape_and_standardisation(leads, channels):
    x = _signals(batch=2, seconds=9.0, leads=leads)
    img = spectrogram_image(x, FS, (80, 90), channels=channels).numpy()
    assert img.shape == (2, 80, 90, 3)
    assert np.isfinite(img).all()
    assert abs(img.mean()) < 0.2 and 0.5 < img.std() < 1.5
    if leads == 1 or channels == "mean":
        np.testing.assert_allclose(img[..., 0], img[..., 2])
    else:
        assert not np.allclose(img[..., 0], img[..., 2])


def test_image_rows_are_frequency_high_on_top():
    t = np.arange(2700) / FS
    x = np.sin(2 * np.pi * 45.0 * t).astype(np.float32)[None, :, None]
    img = spectrogram_image(x, FS, (100, 100)).numpy()[0, :, :, 0]
    assert img.mean(axis=1).argmax() < 20  # 45 Hz of 0-50 Hz: near the top row


def test_unknown_channels_lists_valid():
    with pytest.raises(ValueError, match="first3"):
        SpectrogramImage(FS, channels="rgb")
    assert set(CHANNEL_MODES) == {"mean", "first3", "multires"}


def test_multires_channels_are_the_mean_image_at_each_window():
    from ecgtf.data.spectrogram import MULTIRES_SCALES

    x = _signals(batch=2, seconds=9.0, leads=2)
    img = spectrogram_image(x, FS, (75, 75), window_s=0.4, channels="multires").numpy()
    assert img.shape == (2, 75, 75, 3)
    for c, scale in enumerate(MULTIRES_SCALES):
        plane = spectrogram_image(x, FS, (75, 75), window_s=0.4 * scale, channels="mean").numpy()[..., 0]
        np.testing.assert_allclose(img[..., c], plane, atol=1e-5)
    assert not np.allclose(img[..., 0], img[..., 2], atol=0.1)   # the windows differ


def test_fn_in_tf_data_matches_layer_and_round_trips(tmp_path):
    x = _signals(batch=4, seconds=9.0)
    y = np.zeros((4, 1), np.float32)
    fn = SpectrogramImage(FS, image_size=(75, 80), window_s=0.5, hop_s=0.05, max_freq_hz=50.0, fft_length=None)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(2).map(lambda a, b: (fn(a), b))
    from_ds = np.concatenate([a.numpy() for a, _ in ds])
    layer = SpectrogramImage(FS, image_size=(75, 80))
    inputs = keras.Input((x.shape[1], 1))
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_allclose(from_ds, model.predict_on_batch(x), atol=1e-5)
    assert model.output_shape == (None, 75, 80, 3)
    path = tmp_path / "spec.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded.predict_on_batch(x), from_ds, atol=1e-5)
    assert reloaded.layers[-1].get_config()["image_size"] == [75, 80]
