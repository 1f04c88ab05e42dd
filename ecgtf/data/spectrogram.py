"""Log-magnitude STFT images of raw ECG crops, for image backbones (TensorFlow).

Defaults are chosen for single-lead AF detection at 300 Hz (PhysioNet/CinC 2017):

* ``window_s=0.5`` (150 samples at 300 Hz; FFT of 256 points, 1.17 Hz bins). The
  window is shorter than a typical RR interval (0.6-1.0 s), so frames fall between
  beats: QRS energy shows as vertical stripes whose irregular spacing is the RR
  irregularity of AF, and frames between beats show the 4-9 Hz f-wave activity
  that replaces the P wave. A 256-sample (0.85 s) window would hold a QRS in nearly
  every frame and blur both cues; 0.5 s still resolves 2 Hz (1/T) in frequency.
* ``hop_s=0.05`` (15 samples): a 9 s crop gives 171 frames, about twice the
  default image width, so resizing only averages neighbouring frames.
* image ``99x99`` (InceptionResNetV2's minimum is 75): ~0.09 s and ~0.5 Hz per pixel
  for a 9 s crop, and a training step that fits CPU budgets (see the model module).
* ``max_freq_hz=50``: ECG content; higher bins (noise, mains) are dropped.
* ``eps=1e-3`` mV in ``log(magnitude + eps)``: a 1 µV floor, so flat or zero
  stretches do not produce extreme values.

The magnitude is scaled by ``1 / sum(window)`` (SciPy's ``scaling="spectrum"``):
a sinusoid of amplitude A mV shows as about A/2 at its bin.

Images are ``(batch, H, W, 3)``: rows are frequency (high at the top, 0 Hz at the
bottom), columns are time. Each record's log-spectrogram is standardised per lead
(zero mean, unit variance over time and frequency) before resizing; the values
are therefore roughly in [-3, 3], close to the [-1, 1] range ImageNet backbones
expect, without a per-backbone preprocessing step. Leads become 3 channels through
``CHANNEL_MODES`` (a single lead is repeated 3 times).

Where it runs: ``SpectrogramImage`` is a step of the run's ``prepare`` block
(:mod:`ecgtf.inputs`), saved inside ``model.keras``. Training applies that block in ``tf.data``
(it overlaps with the training step through prefetch, and the network's input stays the
image, so Grad-CAM maps are in spectrogram pixels); prediction from a saved model runs it in
the model. ``benchmarks/bench_spectrogram.py`` on the shared 2-core CPU (batch 16, 9 s crops,
99x99) measured ~1,200 signals/s both ways, against ~43 signals/s consumed by a frozen-backbone
``inception_spectrogram`` training step (~17 in phase 2) and ~56 for inference: the
spectrogram is never the bottleneck.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

DEFAULT_IMAGE_SIZE = (99, 99)
DEFAULT_WINDOW_S = 0.5
DEFAULT_HOP_S = 0.05
DEFAULT_MAX_FREQ_HZ = 50.0
DEFAULT_EPS = 1e-3


def _lead_mean(spec: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(spec, axis=-1, keepdims=True)


def _mean_channels(spec: tf.Tensor) -> tf.Tensor:
    mean = _lead_mean(spec)
    return tf.concat([mean, mean, mean], axis=-1)


def _first3_channels(spec: tf.Tensor) -> tf.Tensor:
    leads = spec.shape[-1]
    if leads is not None and leads >= 3:
        return spec[..., :3]
    return _mean_channels(spec)


#: How leads become the 3 image channels. ``"mean"``: the mean of the leads'
#: standardised log-spectrograms, repeated 3 times (uses every lead; one lead is simply
#: repeated). ``"first3"``: the first 3 leads as R, G, B (fewer than 3 leads: as "mean").
#: ``"multires"``: one lead-mean plane per window length (``MULTIRES_SCALES``); it is built
#: in :func:`spectrogram_image` from three STFTs, so it has no single-spectrogram function.
CHANNEL_MODES = {"mean": _mean_channels, "first3": _first3_channels, "multires": None}

#: ``channels="multires"``: window lengths of the R, G, B planes as fractions of
#: ``window_s`` (each plane the lead mean at that window). Short windows resolve each
#: QRS in time (the RR rhythm), long ones resolve frequency (f-waves, noise), and the
#: backbone sees both for the cost of one image. Each plane's frames are resized to the
#: full width, so the planes' time axes agree to within half the window difference at the
#: edges (0.19 s for 0.5 s windows), exactly in the middle.
MULTIRES_SCALES = (0.25, 0.5, 1.0)


def frame_params(sampling_rate: float, window_s: float = DEFAULT_WINDOW_S, hop_s: float = DEFAULT_HOP_S,
                 fft_length: int | None = None) -> tuple[int, int, int]:
    """STFT sizes in samples for a sampling rate.

    Args:
        sampling_rate: Hz.
        window_s: window length in seconds.
        hop_s: hop between frames in seconds.
        fft_length: FFT points; None takes the smallest power of 2 >= the window.

    Returns:
        ``(frame_length, frame_step, fft_length)`` in samples. The frame length is rounded
        to an even number: for odd lengths ``tf.signal.hann_window(periodic=True)`` is
        the symmetric window, unlike SciPy's periodic ``"hann"``.
    """
    frame_length = max(2, 2 * int(round(window_s * sampling_rate / 2)))
    frame_step = max(1, int(round(hop_s * sampling_rate)))
    if fft_length is None:
        fft_length = 2 ** math.ceil(math.log2(frame_length))
    if fft_length < frame_length:
        raise ValueError(f"fft_length {fft_length} is shorter than the window ({frame_length} samples)")
    return frame_length, frame_step, int(fft_length)


def stft_magnitude(signal_mv, sampling_rate: float, window_s: float = DEFAULT_WINDOW_S,
                   hop_s: float = DEFAULT_HOP_S, fft_length: int | None = None) -> tf.Tensor:
    """Magnitude STFT (periodic Hann window, no padding) of every lead.

    Args:
        signal_mv: ``(batch, samples, leads)`` float32 in mV; ``samples`` must be at least
            one window.
        sampling_rate: Hz.
        window_s: window length in seconds.
        hop_s: hop between frames in seconds.
        fft_length: FFT points; None takes the smallest power of 2 >= the window.

    Returns:
        ``(batch, frames, fft_length // 2 + 1, leads)`` float32, in mV (scaled by
        ``1 / sum(window)``, SciPy's ``scaling="spectrum"``).
    """
    frame_length, frame_step, fft_length = frame_params(sampling_rate, window_s, hop_s, fft_length)
    x = tf.transpose(tf.convert_to_tensor(signal_mv, tf.float32), [0, 2, 1])  # (batch, leads, samples)
    stft = tf.signal.stft(x, frame_length, frame_step, fft_length, window_fn=tf.signal.hann_window)
    window_sum = tf.reduce_sum(tf.signal.hann_window(frame_length))
    return tf.transpose(tf.abs(stft) / window_sum, [0, 2, 3, 1])


def log_spectrogram(signal_mv, sampling_rate: float, window_s: float = DEFAULT_WINDOW_S,
                    hop_s: float = DEFAULT_HOP_S, fft_length: int | None = None,
                    max_freq_hz: float | None = DEFAULT_MAX_FREQ_HZ, eps: float = DEFAULT_EPS) -> tf.Tensor:
    """Log-magnitude STFT, frequencies cropped to ``<= max_freq_hz``.

    Args:
        signal_mv: ``(batch, samples, leads)`` float32 in mV.
        sampling_rate: Hz.
        window_s: window length in seconds.
        hop_s: hop between frames in seconds.
        fft_length: FFT points; None takes the smallest power of 2 >= the window.
        max_freq_hz: highest frequency kept (Hz); None keeps up to Nyquist.
        eps: floor in mV added before the log.

    Returns:
        ``(batch, frames, freq_bins, leads)`` float32, ``log(magnitude_mv + eps)``; bin k
        is at ``k * sampling_rate / fft_length`` Hz.
    """
    mag = stft_magnitude(signal_mv, sampling_rate, window_s, hop_s, fft_length)
    if max_freq_hz is not None:
        _, _, n_fft = frame_params(sampling_rate, window_s, hop_s, fft_length)
        bins = min(int(math.floor(max_freq_hz * n_fft / sampling_rate)) + 1, n_fft // 2 + 1)
        mag = mag[:, :, :bins, :]
    return tf.math.log(mag + eps)


def standardize_spectrogram(spec: tf.Tensor, eps: float = 1e-6) -> tf.Tensor:
    """Per-record, per-lead standardisation over time and frequency.

    Args:
        spec: ``(batch, frames, freq_bins, leads)``.
        eps: added to the standard deviation.

    Returns:
        Same shape, each ``spec[b, :, :, l]`` with zero mean and unit variance. Computed in
        float64 and returned as float32, so a record's image does not depend on the batch it
        is in (float32 moments over another batch shape round differently).
    """
    spec = tf.cast(spec, tf.float64)
    mean, var = tf.nn.moments(spec, axes=[1, 2], keepdims=True)
    return tf.cast((spec - mean) / (tf.sqrt(var) + eps), tf.float32)


def spectrogram_image(signal_mv, sampling_rate: float, image_size=DEFAULT_IMAGE_SIZE,
                      window_s: float = DEFAULT_WINDOW_S, hop_s: float = DEFAULT_HOP_S,
                      fft_length: int | None = None, max_freq_hz: float | None = DEFAULT_MAX_FREQ_HZ,
                      eps: float = DEFAULT_EPS, channels: str = "mean") -> tf.Tensor:
    """Standardised log-spectrogram images of raw crops.

    Args:
        signal_mv: ``(batch, samples, leads)`` float32 in mV.
        sampling_rate: Hz.
        image_size: ``(H, W)`` in pixels; rows are frequency (0 Hz at the bottom), columns time.
        window_s: window length in seconds.
        hop_s: hop between frames in seconds.
        fft_length: FFT points; None takes the smallest power of 2 >= the window.
        max_freq_hz: highest frequency kept (Hz).
        eps: floor in mV added before the log.
        channels: a key of ``CHANNEL_MODES``; ``"multires"`` makes the 3 channels the
            lead mean at windows ``window_s * MULTIRES_SCALES``.

    Returns:
        ``(batch, H, W, 3)`` float32.
    """
    if channels not in CHANNEL_MODES:
        raise ValueError(f"unknown channels {channels!r}; valid: {', '.join(CHANNEL_MODES)}")
    size = tuple(int(s) for s in image_size)
    if channels == "multires":
        planes = [_to_image(_lead_mean(standardize_spectrogram(
            log_spectrogram(signal_mv, sampling_rate, window_s * scale, hop_s, fft_length, max_freq_hz, eps)
        )), size) for scale in MULTIRES_SCALES]
        return tf.concat(planes, axis=-1)
    spec = standardize_spectrogram(log_spectrogram(signal_mv, sampling_rate, window_s, hop_s, fft_length,
                                                   max_freq_hz, eps))
    return _to_image(CHANNEL_MODES[channels](spec), size)


def _to_image(spec: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """``(batch, frames, bins, c)`` -> ``(batch, H, W, c)``, high frequencies on top."""
    spec = tf.reverse(tf.transpose(spec, [0, 2, 1, 3]), [1])
    return tf.image.resize(spec, size, method="bilinear", antialias=True)


@keras.saving.register_keras_serializable(package="ecgtf")
class SpectrogramImage(keras.layers.Layer):
    """Keras layer computing :func:`spectrogram_image` (TensorFlow backend).

    Input ``(batch, samples, leads)`` float32 mV; output ``(batch, H, W, 3)``. Not trainable.

    Args:
        sampling_rate: Hz.
        image_size: ``(H, W)``.
        window_s, hop_s, fft_length, max_freq_hz, eps, channels: see :func:`spectrogram_image`.
    """

    def __init__(self, sampling_rate: float, image_size=DEFAULT_IMAGE_SIZE, window_s: float = DEFAULT_WINDOW_S,
                 hop_s: float = DEFAULT_HOP_S, fft_length: int | None = None,
                 max_freq_hz: float | None = DEFAULT_MAX_FREQ_HZ, eps: float = DEFAULT_EPS,
                 channels: str = "mean", **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        if channels not in CHANNEL_MODES:
            raise ValueError(f"unknown channels {channels!r}; valid: {', '.join(CHANNEL_MODES)}")
        self.sampling_rate = float(sampling_rate)
        self.image_size = tuple(int(s) for s in image_size)
        self.window_s = float(window_s)
        self.hop_s = float(hop_s)
        self.fft_length = None if fft_length is None else int(fft_length)
        self.max_freq_hz = None if max_freq_hz is None else float(max_freq_hz)
        self.eps = float(eps)
        self.channels = channels

    def call(self, inputs):
        return spectrogram_image(inputs, self.sampling_rate, self.image_size, self.window_s, self.hop_s,
                                 self.fft_length, self.max_freq_hz, self.eps, self.channels)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_size, 3)

    def get_config(self):
        config = super().get_config()
        config.update(sampling_rate=self.sampling_rate, image_size=list(self.image_size), window_s=self.window_s,
                      hop_s=self.hop_s, fft_length=self.fft_length, max_freq_hz=self.max_freq_hz, eps=self.eps,
                      channels=self.channels)
        return config
