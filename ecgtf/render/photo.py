"""Photo augmentations: a printout as a phone photo of it would look.

Albumentations does what it can (``RandomShadow`` polygon shadows, ``Perspective``,
``Affine`` rotation, ``GaussianBlur``, ``GaussNoise``, ``ImageCompression`` JPEG artefacts,
``RandomBrightnessContrast``, ``PlanckianJitter`` colour temperature); paper creases, which
it lacks, are drawn here. Every call is seeded: the same image, config and seed give the same
pixels, in any process or thread.

Usable at render time (``scripts/render.py --augment default``) and inside ``tf.data``
(:func:`augment_photo_tf`, a ``tf.numpy_function``: not a graph op, so it runs in Python,
holds the GIL and is not saved in a SavedModel).

:func:`photograph` goes further for :mod:`ecgtf.render.world` pages: procedural wrinkles and
fold creases, the page rotated (up to 10 degrees) on a textured table, these albumentations
steps, then colour temperature, vignetting, sensor grain and JPEG.
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


# --- photographs of printouts: paper, table, camera ------------------------------------------------

#: Parameters of :func:`photograph` by strength: wrinkle displacement (fraction of the image
#: diagonal) and shading; crease count (inclusive range) and shading; largest rotation (deg) and
#: the page's share of the frame; colour temperature shift (fraction); vignette darkening at the
#: corners (fraction); sensor noise (standard deviation, 0-255); JPEG quality; and the probabilities
#: of the albumentations steps (shadow, perspective, blur, brightness/contrast).
PHOTO_STRENGTHS = {
    "light": dict(wrinkle=(0.0005, 0.0015), wrinkle_shade=(0.02, 0.05), creases=(0, 1), crease_shade=(0.04, 0.1),
                  rotate_deg=3.0, fill=(0.88, 0.97), temperature=0.05, vignette=(0.05, 0.2), noise=(0.5, 2.0),
                  jpeg=(75, 95), shadow_p=0.2, perspective_p=0.3, blur_p=0.2, brightness_contrast_p=0.3),
    "medium": dict(wrinkle=(0.001, 0.003), wrinkle_shade=(0.04, 0.1), creases=(0, 2), crease_shade=(0.06, 0.18),
                   rotate_deg=6.0, fill=(0.8, 0.95), temperature=0.1, vignette=(0.1, 0.35), noise=(1.0, 4.0),
                   jpeg=(55, 90), shadow_p=0.4, perspective_p=0.5, blur_p=0.3, brightness_contrast_p=0.5),
    "strong": dict(wrinkle=(0.002, 0.005), wrinkle_shade=(0.08, 0.16), creases=(1, 3), crease_shade=(0.1, 0.28),
                   rotate_deg=10.0, fill=(0.72, 0.92), temperature=0.18, vignette=(0.2, 0.5), noise=(2.0, 7.0),
                   jpeg=(35, 80), shadow_p=0.6, perspective_p=0.7, blur_p=0.5, brightness_contrast_p=0.7),
}

#: Table colours (RGB) around a photographed page: light and dark wood, grey and dark desks, white.
TABLE_COLORS = ((150, 105, 65), (95, 62, 38), (120, 120, 118), (55, 55, 60), (205, 200, 190), (170, 150, 120))


def _smooth_field(rng: np.random.Generator, shape: tuple, cells: int) -> np.ndarray:
    """A smooth random field of ``shape`` (float32, about unit standard deviation): Gaussian
    noise on a grid of about ``cells`` cells along the longer side, cubic-interpolated up."""
    h, w = shape
    gh, gw = (max(2, round(cells * h / max(h, w))) + 2, max(2, round(cells * w / max(h, w))) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def add_wrinkles(image: np.ndarray, rng: np.random.Generator, displacement: float = 0.002,
                 shading: float = 0.06) -> np.ndarray:
    """Paper wrinkles: a low-frequency random height field displaces the pixels (by about
    ``displacement`` of the image diagonal, px) and shades them by its slope towards a random
    light (``shading``: darkening or lightening of the steepest slopes, fraction).

    ``image``: uint8 ``(H, W, 3)``; returns the same shape.
    """
    h, w = image.shape[:2]
    diag = float(np.hypot(h, w))
    # Work on a coarse map (1/8 size) and interpolate: the fields are smooth anyway.
    sh, sw = max(4, h // 8), max(4, w // 8)
    height = _smooth_field(rng, (sh, sw), 6) + 0.5 * _smooth_field(rng, (sh, sw), 14)
    gy, gx = np.gradient(height)
    angle = rng.uniform(0, 2 * np.pi)
    slope = gx * np.cos(angle) + gy * np.sin(angle)
    slope /= max(1e-6, float(np.abs(slope).max()))
    shade = cv2.resize(1.0 + shading * slope, (w, h), interpolation=cv2.INTER_LINEAR)
    amp = displacement * diag
    dx = cv2.resize(_smooth_field(rng, (sh, sw), 5), (w, h), interpolation=cv2.INTER_LINEAR) * amp
    dy = cv2.resize(_smooth_field(rng, (sh, sw), 5), (w, h), interpolation=cv2.INTER_LINEAR) * amp
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    moved = cv2.remap(np.ascontiguousarray(image), xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.clip(moved * shade[..., None], 0, 255).astype(np.uint8)


def add_crease_bands(image: np.ndarray, rng: np.random.Generator, count: int = 1,
                     strength: float = 0.15) -> np.ndarray:
    """Fold creases: ``count`` lines across the page (mostly near the halves or thirds of the
    page, nearly horizontal or vertical), each a ridge lit on one side and shaded on the other
    over a band of 1-4 % of the diagonal, with a thin dark or light line at the fold;
    ``strength``: the darkening beside the fold (fraction).

    ``image``: uint8 ``(H, W, 3)``; returns the same shape.
    """
    h, w = image.shape[:2]
    diag = float(np.hypot(h, w))
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    shade = np.ones((h, w), np.float32)
    for _ in range(int(count)):
        vertical = rng.random() < 0.5
        if rng.random() < 0.7:
            where = float(rng.choice([1 / 3, 1 / 2, 2 / 3])) + float(rng.normal(0, 0.05))
        else:
            where = float(rng.uniform(0.1, 0.9))
        tilt = float(np.deg2rad(rng.normal(0, 2.0) if rng.random() < 0.8 else rng.uniform(-30, 30)))
        cos, sin = np.float32(np.cos(tilt)), np.float32(np.sin(tilt))
        if vertical:  # signed distance (px) from a near-vertical line through (where * w, h / 2)
            d = (xs - np.float32(where * w)) * cos - (ys - np.float32(h / 2)) * sin
        else:
            d = (ys - np.float32(where * h)) * cos + (xs - np.float32(w / 2)) * sin
        band = np.float32(rng.uniform(0.01, 0.04) * diag)
        side = np.float32(1.0 if rng.random() < 0.5 else -1.0)
        lit = np.float32(-0.5)
        k = np.float32(strength)
        shade *= 1.0 - k * np.exp(-np.abs(d) / band) * np.where(side * d > 0, np.float32(1.0), lit)
        line = np.float32(max(0.7, 0.0008 * diag))
        dark = np.float32(strength if rng.random() < 0.7 else -0.5 * strength)
        shade *= 1.0 - dark * np.exp(-np.square(d / line))
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def place_on_table(image: np.ndarray, rng: np.random.Generator, max_deg: float = 10.0,
                   fill: tuple = (0.8, 0.95), table_color: tuple | None = None) -> np.ndarray:
    """The page photographed lying on a table: shrunk to ``fill`` (range, fraction of the frame),
    rotated by up to ``max_deg`` degrees either way, shifted at random, with a soft shadow on a
    textured table of ``table_color`` (a random :data:`TABLE_COLORS` entry when None) around it.

    ``image``: uint8 ``(H, W, 3)``; returns the same shape.
    """
    h, w = image.shape[:2]
    angle = float(rng.uniform(-max_deg, max_deg))
    rad = np.deg2rad(abs(angle))
    # The rotated page's bounding box, fitted into the frame.
    bw, bh = w * np.cos(rad) + h * np.sin(rad), w * np.sin(rad) + h * np.cos(rad)
    scale = float(min(w / bw, h / bh) * rng.uniform(*fill))
    cx = w / 2 + rng.uniform(-0.5, 0.5) * max(0.0, w - bw * scale)
    cy = h / 2 + rng.uniform(-0.5, 0.5) * max(0.0, h - bh * scale)
    m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle, scale)
    m[:, 2] += (cx - w / 2, cy - h / 2)
    rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
    warped = cv2.warpAffine(rgba, m, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    if table_color is None:
        table_color = TABLE_COLORS[int(rng.integers(len(TABLE_COLORS)))]
    # The table and the page's shadow at 1/4 size (both are smooth), then scaled up.
    sh, sw = max(4, h // 4), max(4, w // 4)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    grain_dir = float(rng.uniform(0, np.pi))
    along = xs * np.float32(np.cos(grain_dir)) + ys * np.float32(np.sin(grain_dir))
    grain = np.sin(along * np.float32(rng.uniform(0.2, 0.8)) + 3.0 * _smooth_field(rng, (sh, sw), 8))  # wood-like
    texture = 1.0 + 0.08 * _smooth_field(rng, (sh, sw), 4) + np.float32(rng.uniform(0.0, 0.05)) * grain
    off = rng.uniform(0.004, 0.015) * float(np.hypot(sh, sw))
    small_alpha = cv2.resize(warped[..., 3], (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    shift = np.float32([[1, 0, off * rng.uniform(0.3, 1.0)], [0, 1, off]])
    shadow = cv2.warpAffine(small_alpha, shift, (sw, sh), borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.5, off))
    texture *= 1.0 - np.float32(rng.uniform(0.3, 0.6)) * shadow
    texture = cv2.resize(texture, (w, h), interpolation=cv2.INTER_LINEAR)
    table = texture[..., None] * np.asarray(table_color, np.float32)
    alpha = warped[..., 3:].astype(np.float32) / 255.0
    out = table + alpha * (warped[..., :3] - table)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def light_and_lens(image: np.ndarray, rng: np.random.Generator, temperature: float = 0.1,
                   vignette: float = 0.25) -> np.ndarray:
    """Colour temperature and vignetting: red and blue gains moved oppositely by up to
    ``temperature`` (warm or cool light, fraction), and a radial darkening reaching ``vignette``
    (fraction) at the corners around a slightly off-centre point.

    ``image``: uint8 ``(H, W, 3)`` RGB; returns the same shape.
    """
    h, w = image.shape[:2]
    t = rng.uniform(-temperature, temperature)
    gains = np.array([1.0 + t, 1.0 + 0.3 * t, 1.0 - t], np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    ry = ((np.arange(h, dtype=np.float32) - cy) / (h / 2)) ** 2
    rx = ((np.arange(w, dtype=np.float32) - cx) / (w / 2)) ** 2
    falloff = 1.0 - vignette * np.minimum((ry[:, None] + rx[None, :]) / 2.0, 1.5) ** 1.5
    return np.clip(image * falloff[..., None] * gains + 0.5, 0, 255).astype(np.uint8)


def camera_noise(image: np.ndarray, rng: np.random.Generator, noise_std: float = 3.0,
                 jpeg_quality: int = 75) -> np.ndarray:
    """Sensor grain (Gaussian, ``noise_std`` on 0-255, at half resolution as demosaicing leaves
    it) and a JPEG round trip at ``jpeg_quality``.

    ``image``: uint8 ``(H, W, 3)`` RGB; returns the same shape.
    """
    h, w = image.shape[:2]
    grain = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32) * np.float32(noise_std)
    grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)
    noisy = np.clip(image + grain + 0.5, 0, 255).astype(np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    ok, blob = cv2.imencode(".jpg", np.ascontiguousarray(noisy[..., ::-1]), params)
    if not ok:
        raise ValueError(f"could not JPEG-encode a {image.shape} image")
    return np.ascontiguousarray(cv2.imdecode(blob, cv2.IMREAD_COLOR)[..., ::-1])


def photograph(image_uint8: np.ndarray, rng, strength: str = "medium") -> np.ndarray:
    """A printout as a phone photo of it: wrinkled and creased paper, lying rotated on a table,
    then the albumentations steps of :func:`augment_photo` (shadows, perspective, blur,
    brightness/contrast), colour temperature, vignetting, sensor noise and JPEG.

    Args:
        image_uint8: ``(H, W, 3)`` uint8 RGB (e.g. :attr:`ecgtf.render.world.WorldPage.image`).
        rng: ``np.random.Generator`` (or an int seed); the same state gives the same pixels.
        strength: a key of :data:`PHOTO_STRENGTHS` (``light``, ``medium``, ``strong``).

    Returns:
        ``(H, W, 3)`` uint8 RGB, the same size (the page is shrunk inside the frame).
    """
    image = np.asarray(image_uint8)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"photograph takes one uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    if strength not in PHOTO_STRENGTHS:
        raise KeyError(f"unknown strength {strength!r}; valid: {', '.join(PHOTO_STRENGTHS)}")
    p = PHOTO_STRENGTHS[strength]
    rng = np.random.default_rng(rng)
    out = add_wrinkles(image, rng, rng.uniform(*p["wrinkle"]), rng.uniform(*p["wrinkle_shade"]))
    lo, hi = p["creases"]
    creases = int(rng.integers(lo, hi + 1))
    if creases:
        out = add_crease_bands(out, rng, creases, rng.uniform(*p["crease_shade"]))
    table = TABLE_COLORS[int(rng.integers(len(TABLE_COLORS)))]
    out = place_on_table(out, rng, p["rotate_deg"], p["fill"], table)
    config = PhotoAugment(shadow_p=p["shadow_p"], perspective_p=p["perspective_p"], perspective_scale=(0.01, 0.04),
                          blur_p=p["blur_p"], blur_sigma=(0.3, 1.0), brightness_contrast_p=p["brightness_contrast_p"],
                          brightness=0.15, contrast=0.15, background=table)
    out = augment_photo(out, config, int(rng.integers(0, 2 ** 31 - 1)))
    out = light_and_lens(out, rng, p["temperature"], rng.uniform(*p["vignette"]))
    return camera_noise(out, rng, rng.uniform(*p["noise"]), int(rng.integers(p["jpeg"][0], p["jpeg"][1] + 1)))
