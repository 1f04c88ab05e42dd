"""Photo augmentations: a printout as a phone photo of it would look.

Albumentations does what it can (``RandomShadow`` polygon shadows, ``Perspective``,
``Affine`` rotation, ``GaussianBlur``, ``GaussNoise``, ``ImageCompression`` JPEG artefacts,
``RandomBrightnessContrast``, ``PlanckianJitter`` colour temperature); paper creases, which
it lacks, are drawn here. Every call is seeded: the same image, config and seed give the same
pixels, in any process or thread.

Usable at render time (``scripts/render.py --augment default``) and inside ``tf.data``
(:func:`augment_photo_tf`, a ``tf.numpy_function``: not a graph op, so it runs in Python,
holds the GIL and is not saved in a SavedModel).
"""

from __future__ import annotations

import dataclasses
import os
import threading

import cv2
import numpy as np


@dataclasses.dataclass(frozen=True)
class PhotoAugment:
    """Probabilities and strengths of each photo effect (``*_p``: probability per image).

    Attributes:
        shadow_p: polygon shadows; ``shadow_count`` shadows (inclusive range) of
            ``shadow_vertices`` vertices each, darkening by a fraction in ``shadow_intensity``.
        perspective_p: perspective warp; corners moved by ``perspective_scale`` (fraction of
            the image size).
        rotate_p: rotation by up to ``rotate_deg`` degrees either way.
        blur_p: Gaussian blur of sigma in ``blur_sigma`` (pixels).
        noise_p: Gaussian noise of standard deviation in ``noise_std`` (fraction of 255).
        jpeg_p: JPEG artefacts at a quality in ``jpeg_quality``.
        brightness_contrast_p: brightness and contrast changed by up to ``brightness`` and
            ``contrast`` (fractions).
        temperature_p: colour temperature of the light (black body, kelvin in ``temperature_k``).
        crease_p: ``crease_count`` paper creases (a dark fold line with shading on one side),
            darkening by a fraction in ``crease_strength``.
        background: RGB of the table showing around a warped or rotated page.
    """

    shadow_p: float = 0.0
    shadow_count: tuple = (1, 3)
    shadow_vertices: int = 5
    shadow_intensity: tuple = (0.3, 0.6)
    perspective_p: float = 0.0
    perspective_scale: tuple = (0.02, 0.06)
    rotate_p: float = 0.0
    rotate_deg: float = 4.0
    blur_p: float = 0.0
    blur_sigma: tuple = (0.3, 1.2)
    noise_p: float = 0.0
    noise_std: tuple = (0.01, 0.04)
    jpeg_p: float = 0.0
    jpeg_quality: tuple = (30, 85)
    brightness_contrast_p: float = 0.0
    brightness: float = 0.2
    contrast: float = 0.2
    temperature_p: float = 0.0
    temperature_k: tuple = (4000, 9000)
    crease_p: float = 0.0
    crease_count: tuple = (1, 2)
    crease_strength: tuple = (0.1, 0.3)
    background: tuple = (90, 90, 90)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            if f.name.endswith("_p") and not 0.0 <= float(getattr(self, f.name)) <= 1.0:
                raise ValueError(f"{f.name} is a probability in [0, 1], got {getattr(self, f.name)!r}")
            if isinstance(getattr(self, f.name), list):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))

    @classmethod
    def none(cls) -> "PhotoAugment":
        """No effect: the printout as rendered."""
        return cls()

    @classmethod
    def default(cls) -> "PhotoAugment":
        """Moderate photo effects, each on part of the images (training augmentation)."""
        return cls(shadow_p=0.5, perspective_p=0.5, rotate_p=0.5, blur_p=0.3, noise_p=0.3, jpeg_p=0.3,
                   brightness_contrast_p=0.5, temperature_p=0.3, crease_p=0.3)

    @classmethod
    def shadows_perspective(cls) -> "PhotoAugment":
        """Shadows and perspective on every image, nothing else (the robustness test)."""
        return cls(shadow_p=1.0, perspective_p=1.0)

    @classmethod
    def shadows_perspective_often(cls) -> "PhotoAugment":
        """Shadows and perspective on 80 % of the images, with milder light, blur, noise and JPEG
        effects (training for the ``shadows_perspective`` test)."""
        return cls(shadow_p=0.8, perspective_p=0.8, brightness_contrast_p=0.3, blur_p=0.2, noise_p=0.2, jpeg_p=0.2)

    @property
    def active(self) -> bool:
        """False when no effect can happen (:func:`augment_photo` returns the image as is)."""
        return any(float(getattr(self, f.name)) > 0 for f in dataclasses.fields(self) if f.name.endswith("_p"))


#: Presets by name (``--augment``).
PRESETS = {"none": PhotoAugment.none, "default": PhotoAugment.default,
           "shadows_perspective": PhotoAugment.shadows_perspective,
           "shadows_perspective_often": PhotoAugment.shadows_perspective_often}


def get_preset(name: str) -> PhotoAugment:
    """The preset called ``name``; unknown names list the valid ones."""
    if name not in PRESETS:
        raise KeyError(f"unknown augmentation {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name]()


def _compose(config: PhotoAugment):
    # albumentations asks PyPI for a newer version at import unless told not to: ecgtf works offline.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations as A

    fill = tuple(float(c) for c in config.background)
    steps = [
        A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=tuple(config.shadow_count),
                       shadow_dimension=int(config.shadow_vertices),
                       shadow_intensity_range=tuple(config.shadow_intensity), p=config.shadow_p),
        A.Perspective(scale=tuple(config.perspective_scale), keep_size=True, border_mode=cv2.BORDER_CONSTANT,
                      fill=fill, p=config.perspective_p),
        A.Affine(rotate=(-config.rotate_deg, config.rotate_deg), border_mode=cv2.BORDER_CONSTANT, fill=fill,
                 p=config.rotate_p),
        A.PlanckianJitter(mode="blackbody", temperature_limit=tuple(int(k) for k in config.temperature_k),
                          p=config.temperature_p),
        A.RandomBrightnessContrast(brightness_limit=config.brightness, contrast_limit=config.contrast,
                                   p=config.brightness_contrast_p),
        A.GaussianBlur(blur_limit=0, sigma_limit=tuple(config.blur_sigma), p=config.blur_p),
        A.GaussNoise(std_range=tuple(config.noise_std), p=config.noise_p),
        A.ImageCompression(compression_type="jpeg", quality_range=tuple(int(q) for q in config.jpeg_quality),
                           p=config.jpeg_p),
    ]
    return A.Compose([s for s in steps if s.p > 0])


_local = threading.local()


def _pipeline(config: PhotoAugment):
    """This thread's albumentations pipeline of ``config`` (built once per thread)."""
    cache = getattr(_local, "pipelines", None)
    if cache is None:
        cache = _local.pipelines = {}
    if config not in cache:
        cache[config] = _compose(config)
    return cache[config]


def add_creases(image: np.ndarray, count: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """Paper creases: ``count`` straight folds across ``image`` (uint8 ``(H, W, 3)``).

    Each fold is a thin dark line through a random point at a random angle, with shading that
    fades over a few percent of the image on one side of it; ``strength`` is the darkening at
    the fold (fraction).
    """
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = np.ones((h, w), np.float32)
    diag = float(np.hypot(h, w))
    for _ in range(int(count)):
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        angle = rng.uniform(0, np.pi)
        d = (xx - cx) * np.sin(angle) - (yy - cy) * np.cos(angle)  # signed distance (px)
        line = max(1.0, 0.0015 * diag)
        side = 1.0 if rng.random() < 0.5 else -1.0
        shade *= 1.0 - strength * np.exp(-(d / line) ** 2)
        shade *= 1.0 - 0.5 * strength * np.exp(-np.maximum(side * d, 0) / (0.03 * diag)) * (side * d > 0)
    return np.clip(image.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)


def augment_photo(image_uint8: np.ndarray, config: PhotoAugment, seed: int) -> np.ndarray:
    """One printout made to look photographed.

    Args:
        image_uint8: ``(H, W, 3)`` uint8 RGB (e.g. from :func:`render_printout`).
        config: the :class:`PhotoAugment`.
        seed: the same seed gives the same pixels.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    image = np.asarray(image_uint8)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"augment_photo takes one uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    if not config.active:
        return image.copy()
    pipeline = _pipeline(config)
    crease_seq, *step_seqs = np.random.SeedSequence(int(seed) & 0xFFFFFFFFFFFF).spawn(1 + len(pipeline.transforms))
    rng = np.random.default_rng(crease_seq)
    out = np.ascontiguousarray(image)
    if rng.random() < config.crease_p:
        lo, hi = config.crease_count
        out = add_creases(out, int(rng.integers(lo, hi + 1)), float(rng.uniform(*config.crease_strength)), rng)
    if pipeline.transforms:
        # Compose.set_random_seed gives every step the same seed, so their "apply?" draws would
        # all be the same number (all steps or none): each step gets its own seed instead.
        for step, seq in zip(pipeline.transforms, step_seqs):
            step.set_random_seed(int(seq.generate_state(1)[0]))
        out = pipeline(image=out)["image"]
    return np.ascontiguousarray(out, dtype=np.uint8)


def augment_batch(images: np.ndarray, config: PhotoAugment, seed: int) -> np.ndarray:
    """:func:`augment_photo` over ``(N, H, W, 3)``, image ``i`` seeded from ``(seed, i)``."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"augment_batch takes (N, H, W, 3) images, got shape {images.shape}")
    out = np.empty_like(images)
    for i, img in enumerate(images):
        out[i] = augment_photo(img, config, image_seed(seed, i))
    return out


def image_seed(seed: int, index: int) -> int:
    """A seed for image ``index`` of a batch or dataset seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index) & 0xFFFFFFFF]).generate_state(1)[0])


def augment_photo_tf(images, config: PhotoAugment, seed):
    """:func:`augment_photo` (one ``(H, W, 3)`` image) or :func:`augment_batch` (``(N, H, W, 3)``)
    inside ``tf.data``.

    A ``tf.numpy_function``: not a graph op (it runs Python, is not saved with a model).
    Give each element its own seed, e.g. from ``Dataset.enumerate()`` and the epoch::

        ds = ds.enumerate().map(lambda i, x: augment_photo_tf(x, cfg, i + epoch * 100_000))

    Args:
        images: uint8 tensor ``(H, W, 3)`` or ``(N, H, W, 3)``.
        config: the :class:`PhotoAugment`.
        seed: integer scalar (Python or tensor).

    Returns:
        uint8 tensor of the same shape.
    """
    import tensorflow as tf

    def fn(x, s):
        return augment_batch(x, config, int(s)) if x.ndim == 4 else augment_photo(x, config, int(s))

    images = tf.convert_to_tensor(images)
    out = tf.numpy_function(fn, [images, tf.cast(seed, tf.int64)], tf.uint8, stateful=False)
    out.set_shape(images.shape)
    return out
