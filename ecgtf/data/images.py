"""Printout images of decoded records for the ``image`` and ``lead_images`` input kinds.

A record's image is made in one place, :func:`record_image`: the first ``window_samples``
samples of the decoded record (zero-padded at the end when shorter, as a printout of a short
record is), drawn by the OpenCV renderer (:mod:`ecgtf.render.opencv_renderer`) with the
layout, DPI, grid and line width of the run's options. Training, evaluation, the Grad-CAM
gallery and prediction all call it, so every consumer sees the same pixels.

Training reads images in one of two ways (:func:`make_image_dataset`):

* ``source="render"`` (the default): rendered inside ``tf.data`` (``tf.numpy_function``) the first
  time a record is read and kept in memory (uint8) for later epochs, when all of them fit in
  :data:`MEMORY_CACHE_BYTES`; photo augmentation still runs anew every epoch;
* ``source=FOLDER``: PNGs written by ``scripts/render.py`` into ``FOLDER``, found through its
  ``manifest.csv`` and decoded with ``tf.io.decode_png``. The first image is checked against
  :func:`record_image`, so a folder rendered with other settings is refused.

Photo augmentation (:func:`photo_augment`, a preset of :data:`ecgtf.render.photo.PRESETS`)
applies to training images only, seeded per image and epoch.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import tensorflow as tf

from ecgtf.data.transforms import pad_or_crop

#: Layouts of the ``image`` kind (``lead`` is the ``lead_images`` kind).
IMAGE_LAYOUTS = ("3x4", "3x4_rhythm", "stack")
GRIDS = ("red", "grey", "none")
#: Rendering resolution (pixels per inch) unless the run sets ``dpi``: 50 dpi is about 2 px per
#: mm, so 1 mV is about 20 px tall and 1 s about 49 px wide.
DEFAULT_DPI = 50.0
#: ``(H, W)`` the network sees, unless the run sets ``image_size``.
DEFAULT_IMAGE_SIZE = (192, 384)
DEFAULT_LEAD_IMAGE_SIZE = (48, 256)
#: Most bytes of rendered printouts :func:`make_image_dataset` keeps in memory between epochs.
#: Measured side by side (benchmarks/results/printout_throughput.json, 200 PTB-XL records, 3x4 at
#: 50 dpi, through prepare): rendering every time 92 images/s, the PNGs of a render.py folder 113,
#: renders kept in memory 132 (the default's epochs after the first).
MEMORY_CACHE_BYTES = 2 * 1024 ** 3


def check_preset(name: str) -> str:
    """``name`` when it is a photo augmentation preset (a key of :data:`ecgtf.render.photo.PRESETS`).

    Raises:
        ValueError: unknown name, listing the valid ones.
    """
    from ecgtf.render.photo import PRESETS

    if name not in PRESETS:
        raise ValueError(f"unknown photo_augment preset {name!r}; valid: {', '.join(PRESETS)}")
    return name


def paper_style(options):
    """The :class:`ecgtf.render.paper.PaperStyle` of a run's image options."""
    from ecgtf.render.paper import PaperStyle

    return PaperStyle(dpi=float(options.dpi), grid=options.grid, line_width_px=int(options.line_width_px))


def record_image(signal_mv: np.ndarray, options, *, sampling_rate: float, lead_names,
                 window_samples: int) -> np.ndarray:
    """The printout the network of a run sees for one decoded record, before resizing.

    Args:
        signal_mv: ``(samples, leads)`` in mV at ``sampling_rate`` Hz, after the run's filter.
        options: :class:`ecgtf.inputs.specs.ImageOptions` (one printout ``(H, W, 3)``) or
            :class:`ecgtf.inputs.specs.LeadImagesOptions` (one image per lead ``(leads, H, W, 3)``).
        sampling_rate: Hz.
        lead_names: lead names, in the signal's column order (printed as labels).
        window_samples: samples printed: the first ``window_samples``, zero-padded at the end.

    Returns:
        uint8 RGB array.
    """
    from ecgtf.render import opencv_renderer

    window = pad_or_crop(np.asarray(signal_mv, np.float32), int(window_samples), start=0, pad_mode="end")
    style = paper_style(options)
    names = [str(n) for n in lead_names]
    layout = getattr(options, "layout", None)
    if layout is None:
        return opencv_renderer.render_leads(window, float(sampling_rate), names, style=style,
                                            duration_s=window_samples / float(sampling_rate))
    return opencv_renderer.render_printout(window, float(sampling_rate), names, layout=layout, style=style)


def spec_image(signal_mv: np.ndarray, spec) -> np.ndarray:
    """:func:`record_image` with the settings of a :class:`ecgtf.inputs.runspec.RunSpec`."""
    return record_image(signal_mv, spec.options(), sampling_rate=spec.sampling_rate, lead_names=spec.lead_names,
                        window_samples=spec.window_samples)


@functools.lru_cache(maxsize=None)
def _augmenter(preset: str):
    from ecgtf.render.photo import get_preset

    return get_preset(check_preset(preset))


def photo_augment(image: np.ndarray, preset: str, seed: int) -> np.ndarray:
    """``image`` (``(H, W, 3)`` or ``(leads, H, W, 3)`` uint8) photographed with ``preset``.

    Seeded and deterministic per ``seed``; each lead image of a sequence gets its own seed.
    ``preset="none"`` returns the image unchanged.
    """
    if preset == "none":
        return image
    from ecgtf.render.photo import augment_photo

    config = _augmenter(preset)
    seed = int(seed) % (2 ** 31)
    if image.ndim == 4:
        return np.stack([augment_photo(im, config, seed=(seed + 7919 * k) % (2 ** 31)) for k, im in enumerate(image)])
    return augment_photo(image, config, seed=seed)


def image_shape(options, *, sampling_rate: float, lead_names, window_samples: int) -> tuple[int, ...]:
    """Shape of :func:`record_image` for these settings (it does not depend on the signal)."""
    blank = np.zeros((int(window_samples), len(lead_names)), np.float32)
    return tuple(record_image(blank, options, sampling_rate=sampling_rate, lead_names=lead_names,
                              window_samples=window_samples).shape)


def manifest_paths(folder: str, record_ids) -> list[str]:
    """Absolute PNG paths of ``record_ids`` in a ``scripts/render.py`` folder (its ``manifest.csv``).

    Raises:
        FileNotFoundError: no manifest, or records it does not list (named, with a hint).
    """
    from ecgtf.render.manifest import read_manifest

    if not os.path.isdir(folder):
        raise FileNotFoundError(f"image source {folder!r} is neither 'render' nor a rendered folder")
    table = read_manifest(folder)
    paths = dict(zip(table["record_id"].astype(str), table["path"].astype(str)))
    missing = [str(r) for r in record_ids if str(r) not in paths]
    if missing:
        raise FileNotFoundError(f"{len(missing)} record(s) are not in {os.path.join(folder, 'manifest.csv')}, "
                                f"e.g. {', '.join(missing[:3])}; render them with scripts/render.py or use "
                                "--option source=render")
    return [p if os.path.isabs(p) else os.path.join(folder, p) for p in (paths[str(r)] for r in record_ids)]


def _read_png(path: str) -> np.ndarray:
    import cv2

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path!r}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def check_folder(folder_paths: list[str], data, index: int, options, window_samples: int) -> None:
    """Refuses a rendered folder whose first image differs from what :func:`record_image` makes.

    Raises:
        ValueError: the folder was rendered with another layout, DPI, style or window.
    """
    expected = record_image(data.signal(int(index)), options, sampling_rate=data.sampling_rate,
                            lead_names=data.lead_names, window_samples=window_samples)
    found = _read_png(folder_paths[0])
    if expected.ndim == 4 and found.size == expected.size:  # the lead layout: leads one above the other
        found = found.reshape(expected.shape)
    if found.shape != expected.shape or np.abs(found.astype(int) - expected.astype(int)).max() > 0:
        differs = "shape" if found.shape != expected.shape else "pixels"
        raise ValueError(f"{folder_paths[0]} was rendered with other settings than the run's image options "
                         f"({differs}: {found.shape} in the folder, {expected.shape} expected); render the folder "
                         "with the run's layout/dpi/grid or use --option source=render")


def make_image_dataset(data, indices, *, options, window_samples: int, batch_size: int, training: bool,
                       seed: int = 0, sample_weights: np.ndarray | None = None, labels=None,
                       photo: str | None = None, keep_in_memory: bool | None = None,
                       drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``(images, y[, w])``: uint8 printouts ``(batch, H, W, 3)`` or ``(batch, leads, H, W, 3)``.

    Args:
        data: a :class:`ecgtf.data.datasets.LoadedData`.
        indices: which records (positions in ``data``).
        options: the run's image options (``source``, ``photo_augment``, rendering settings).
        window_samples: samples printed (:func:`record_image`).
        batch_size: images per batch.
        training: shuffle each epoch and apply ``options.photo_augment``; otherwise keep order.
        seed: shuffling and augmentation seed.
        sample_weights: optional per-record weights, yielded as a third element.
        labels: overrides ``data.labels``.
        photo: photo augmentation preset; None: ``options.photo_augment`` in training, none otherwise
            (a preset here photographs evaluation images too, seeded by ``seed``).
        keep_in_memory: keep each rendered printout after its first use (``source="render"``);
            None: when all of them fit in :data:`MEMORY_CACHE_BYTES`.
        drop_remainder: drop a last incomplete batch.
    """
    indices = np.asarray(indices, dtype=np.int64)
    y_all = np.asarray(data.labels if labels is None else labels, dtype=np.float32)
    rate, leads = float(data.sampling_rate), tuple(data.lead_names)
    shape = image_shape(options, sampling_rate=rate, lead_names=leads, window_samples=window_samples)
    preset = photo if photo is not None else (options.photo_augment if training else "none")
    from_folder = options.source != "render"
    paths = None
    if from_folder:
        ids = data.meta["record_id"].astype(str).to_numpy()[indices]
        paths = np.asarray(manifest_paths(options.source, ids))
        if len(indices):
            check_folder(list(paths[:1]), data, indices[0], options, window_samples)

    @functools.lru_cache(maxsize=None)
    def draw(i: int):
        return record_image(data.signal(i), options, sampling_rate=rate, lead_names=leads,
                            window_samples=window_samples)

    if keep_in_memory is None:
        keep_in_memory = len(np.unique(indices)) * int(np.prod(shape)) <= MEMORY_CACHE_BYTES

    def render(i):
        return draw(int(i)) if keep_in_memory else draw.__wrapped__(int(i))

    def load(i, path):
        if from_folder:  # a lead_images PNG holds the per-lead images one above the other
            image = tf.reshape(tf.io.decode_png(tf.io.read_file(path), channels=3), shape)
        else:
            image = tf.numpy_function(render, [i], tf.uint8, stateful=False)
        image.set_shape(shape)
        return image

    def augment(image, r):
        out = tf.numpy_function(lambda im, s: photo_augment(im, preset, int(s)), [image, r], tf.uint8,
                                stateful=False)
        out.set_shape(shape)
        return out

    tensors = (indices, paths if from_folder else np.zeros(len(indices), dtype=str), y_all[indices])
    if sample_weights is not None:
        tensors += (np.asarray(sample_weights, np.float32)[indices],)
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if training:
        ds = ds.shuffle(max(1, len(indices)), seed=seed, reshuffle_each_iteration=True)
    rand = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=training).map(tf.abs)
    ds = tf.data.Dataset.zip((ds, rand))

    def to_example(elem, r):
        image = load(elem[0], elem[1])
        if preset != "none":
            image = augment(image, r)
        return (image, *elem[2:])

    ds = ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def predict_images(model, data, indices, spec, *, batch_size: int = 32, photo: str = "none",
                   seed: int = 0) -> np.ndarray:
    """Probabilities ``(len(indices), outputs)`` of a printout run's saved model (images in, its
    ``prepare`` block inside) for records of ``data``, each rendered as :func:`spec_image` does.

    Args:
        model: the run's saved model.
        data: a :class:`ecgtf.data.datasets.LoadedData` decoded as the run's records were.
        indices: which records.
        spec: the run's :class:`ecgtf.inputs.runspec.RunSpec`.
        batch_size: images per forward pass.
        photo: a photo augmentation preset applied before prediction (robustness checks).
        seed: seed of that augmentation.
    """
    import dataclasses

    indices = np.asarray(indices, dtype=np.int64)
    outputs = int(model.output_shape[-1])
    if not len(indices):
        return np.zeros((0, outputs), np.float32)
    options = dataclasses.replace(spec.options(), source="render")
    ds = make_image_dataset(data, indices, options=options, window_samples=spec.window_samples,
                            batch_size=batch_size, training=False, seed=seed, photo=photo,
                            labels=np.zeros((len(data), 1), np.float32))
    infer = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return np.concatenate([infer(x).numpy() for x, _ in ds]).astype(np.float32)
