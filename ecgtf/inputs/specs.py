"""Input kinds: one table from each kind to its options, preprocessing, data source and drawing.

A model's registry entry names its input kind; :data:`INPUT_SPECS` says, for that kind:

* ``options``: a typed dataclass of the kind's ``--option`` keys. :func:`split_options`
  sends every other key to the model builder, and a key that neither takes raises an error
  listing the accepted keys (``--option image_sise=...`` is not silently ignored).
* ``step``: the kind's layer after pad/crop and standardisation (:func:`build_prepare`); the
  whole ``prepare`` block is saved inside ``model.keras``.
* ``graph_op``: whether that block is made of TensorFlow graph ops only (needed for a
  SavedModel export). The median beat is not: it runs NumPy/SciPy QRS detection through
  ``tf.numpy_function``.
* ``source``: where its data comes from.
* ``draw``: how the Grad-CAM gallery draws an explained input (a key of
  ``ecgtf.explain.gallery.DRAWERS``).
* ``record_input`` (printout kinds ``image`` and ``lead_images``): the NumPy step from a decoded
  record to what the saved model takes, i.e. the OpenCV rendering of the printout
  (:func:`ecgtf.data.images.record_image`) with the layout, DPI and style of the run's options
  (recorded in ``run_spec.json``); ``saved_input`` is then the saved model's input shape
  (images of any size) and ``prepare`` only resizes and rescales them (graph ops).

The whole-record steps (resampling to the run's rate, the zero-phase band-pass) stay at decode,
in :func:`ecgtf.data.transforms.decode_signal`, which the record store, the gallery and every
other consumer call; the run records them in its :class:`ecgtf.inputs.runspec.RunSpec`.
They are not graph ops: ``sosfiltfilt`` runs forwards and backwards over the whole record.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Callable

import keras

from ecgtf.data import beats as beatlib
from ecgtf.data import images as imagelib
from ecgtf.data import spectrogram as speclib
from ecgtf.inputs.layers import ILLUMINATION_MODES, CenterCropOrPad, ImageToInput, MedianBeat, Standardize

#: ``illumination`` and ``unzoom`` of the printout kinds unless the run sets them.
DEFAULT_ILLUMINATION = "none"
DEFAULT_UNZOOM = False


@dataclasses.dataclass(frozen=True)
class RawOptions:
    """The raw signal takes no options."""


@dataclasses.dataclass(frozen=True)
class SpectrogramOptions:
    """Options of the log-STFT image (see :func:`ecgtf.data.spectrogram.spectrogram_image`)."""

    image_size: tuple = speclib.DEFAULT_IMAGE_SIZE  # (H, W) pixels
    window_s: float = speclib.DEFAULT_WINDOW_S
    hop_s: float = speclib.DEFAULT_HOP_S
    max_freq_hz: float | None = speclib.DEFAULT_MAX_FREQ_HZ
    fft_length: int | None = None
    channels: str = "mean"

    def __post_init__(self):
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        if self.channels not in speclib.CHANNEL_MODES:
            raise ValueError(f"unknown channels {self.channels!r}; valid: {', '.join(speclib.CHANNEL_MODES)}")


@dataclasses.dataclass(frozen=True)
class MedianBeatOptions:
    """Window of the median beat around the QRS fiducial point, in seconds."""

    before_s: float = beatlib.DEFAULT_BEFORE_S
    after_s: float = beatlib.DEFAULT_AFTER_S


def _check_choice(name: str, value, valid) -> None:
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")


@dataclasses.dataclass(frozen=True)
class _PrintoutOptions:
    """What both printout kinds share: how the paper is drawn, photographed and read back.

    Attributes:
        image_size: ``(H, W)`` pixels the network sees (the printout is resized to it).
        dpi: rendering resolution in pixels per inch (px/mm = dpi / 25.4).
        grid: ``red``, ``grey`` or ``none``.
        line_width_px: trace width in pixels.
        photo_augment: photo augmentation preset applied to training images (a key of
            :data:`ecgtf.render.photo.PRESETS`); evaluation never augments.
        source: ``render`` (render in ``tf.data``) or a folder written by ``scripts/render.py``
            (its ``manifest.csv``) with the same layout and style.
        illumination: ``none``, or ``flatten``: the ``prepare`` block divides each pixel by the
            paper brightness around it (:func:`ecgtf.inputs.layers.flatten_illumination`), so
            shadows on a photographed printout cancel.
        unzoom: undo a photo's zoom, measured on the red grid's 5 mm period
            (:func:`ecgtf.inputs.layers.unzoom_grid`; ``grid="red"`` only).
    """

    image_size: tuple = imagelib.DEFAULT_IMAGE_SIZE
    dpi: float = imagelib.DEFAULT_DPI
    grid: str = "red"
    line_width_px: int = 1
    photo_augment: str = "none"
    source: str = "render"
    illumination: str = DEFAULT_ILLUMINATION
    unzoom: bool = DEFAULT_UNZOOM

    def __post_init__(self):
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        _check_choice("illumination", self.illumination, ILLUMINATION_MODES)
        _check_unzoom(self)
        _check_choice("grid", self.grid, imagelib.GRIDS)
        imagelib.check_preset(self.photo_augment)


@dataclasses.dataclass(frozen=True)
class ImageOptions(_PrintoutOptions):
    """A paper printout of the record (:mod:`ecgtf.render`), the view a phone photo gives.

    Attributes: those of :class:`_PrintoutOptions`, and
        layout: ``3x4``, ``3x4_rhythm`` (with a lead II rhythm strip) or ``stack`` (12 leads in
            one column over the whole window).
    """

    layout: str = "3x4"

    def __post_init__(self):
        super().__post_init__()
        _check_choice("layout", self.layout, imagelib.IMAGE_LAYOUTS)


@dataclasses.dataclass(frozen=True)
class LeadImagesOptions(_PrintoutOptions):
    """One printout strip per lead (the ``lead`` layout of :mod:`ecgtf.render`), as a sequence.

    Attributes: those of :class:`_PrintoutOptions`; ``image_size`` is each lead image's ``(H, W)``.
    """

    image_size: tuple = imagelib.DEFAULT_LEAD_IMAGE_SIZE


def _check_unzoom(options) -> None:
    if not isinstance(options.unzoom, bool):
        raise ValueError(f"unzoom is true or false, got {options.unzoom!r}")
    if options.unzoom and options.grid != "red":
        raise ValueError(f"unzoom measures the red grid; it cannot work with grid={options.grid!r}")


def grid_period_px(options) -> float:
    """The printed 5 mm grid period in pixels of a run's printouts (lines fall on whole pixels)."""
    return float(round(5.0 * float(options.dpi) / 25.4))


def _image_step(options, sampling_rate: float):
    return ImageToInput(options.image_size, illumination=options.illumination,
                        grid_period_px=grid_period_px(options) if options.unzoom else None, name="to_input")


def _spectrogram_step(options: SpectrogramOptions, sampling_rate: float):
    return speclib.SpectrogramImage(sampling_rate, name="spectrogram", **dataclasses.asdict(options))


def _beat_step(options: MedianBeatOptions, sampling_rate: float):
    return MedianBeat(sampling_rate, options.before_s, options.after_s, name="median_beat")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What one input kind is; see the module docstring."""

    kind: str
    options: type
    step: Callable | None
    graph_op: bool
    source: str
    draw: str
    note: str = ""
    record_input: Callable | None = None
    saved_input: Callable | None = None


INPUT_SPECS: dict[str, InputSpec] = {
    "raw": InputSpec("raw", RawOptions, None, True,
                     "windows of the decoded record (mV, run rate)", "signal"),
    "median_beat": InputSpec("median_beat", MedianBeatOptions, _beat_step, False,
                             "windows of the decoded record (mV, run rate)", "beat",
                             "the median beat runs NumPy/SciPy QRS detection through tf.numpy_function: "
                             "it is saved in model.keras but cannot be part of a SavedModel graph"),
    "spectrogram": InputSpec("spectrogram", SpectrogramOptions, _spectrogram_step, True,
                             "windows of the decoded record (mV, run rate)", "spectrogram"),
    "image": InputSpec("image", ImageOptions, _image_step, True,
                       "printouts rendered from the decoded record, or a render.py folder", "image",
                       "rendering (OpenCV) is a NumPy step recorded in run_spec.json; model.keras takes "
                       "images (batch, H, W, 3), 0-255", imagelib.record_image,
                       lambda n_leads: (None, None, 3)),
    "lead_images": InputSpec("lead_images", LeadImagesOptions, _image_step, True,
                             "per-lead printout strips rendered from the decoded record", "lead_images",
                             "model.keras takes (batch, leads, H, W, 3), 0-255", imagelib.record_image,
                             lambda n_leads: (int(n_leads), None, None, 3)),
}


def get_spec(kind: str) -> InputSpec:
    """The :class:`InputSpec` of ``kind``; unknown kinds list the valid ones."""
    if kind not in INPUT_SPECS:
        raise KeyError(f"unknown input kind {kind!r}; valid: {', '.join(INPUT_SPECS)}")
    return INPUT_SPECS[kind]


def option_names(kind: str) -> list[str]:
    return [f.name for f in dataclasses.fields(get_spec(kind).options)]


def builder_option_names(builder) -> list[str] | None:
    """Keyword options a model builder takes (None: any, it has ``**kwargs``)."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return [n for n in params if n not in ("input_shape", "num_classes")]


def split_options(entry, options: dict) -> tuple[object, dict]:
    """``(input options dataclass, builder options)`` of a model's ``--option`` keys.

    Raises:
        ValueError: a key that neither the input kind nor the builder takes, naming the kind
            it belongs to when it is another kind's option, and listing the accepted keys.
    """
    spec = get_spec(entry.input_kind)
    input_keys = option_names(spec.kind)
    builder_keys = builder_option_names(entry.builder)
    unknown = [k for k in options if k not in input_keys and builder_keys is not None and k not in builder_keys]
    if unknown:
        elsewhere = {k: [kind for kind in INPUT_SPECS if kind != spec.kind and k in option_names(kind)]
                     for k in unknown}
        why = "; ".join(f"{k} is an option of the {kinds[0]} input"
                        + (f" (and of {', '.join(kinds[1:])})" if len(kinds) > 1 else "")
                        for k, kinds in elsewhere.items() if kinds)
        accepted = sorted(set(input_keys) | set(builder_keys or ()))
        raise ValueError(f"model {entry.name} (input kind {spec.kind}) does not take option(s) "
                         f"{', '.join(unknown)}{f' ({why})' if why else ''}; accepted: {', '.join(accepted)}")
    input_opts = spec.options(**{k: v for k, v in options.items() if k in input_keys})
    return input_opts, {k: v for k, v in options.items() if k not in input_keys}


def build_prepare(kind: str, options, *, sampling_rate: float, window_samples: int, n_leads: int,
                  standardize: bool) -> keras.Sequential:
    """The ``prepare`` block: ``(batch, samples, leads)`` mV -> the network's input.

    Centre crop or zero-pad to ``window_samples`` (a no-op on training windows), per-lead
    standardisation when the run asks for it, then the kind's step.

    Printout kinds (``saved_input`` set) take rendered images instead, ``(batch, H, W, 3)`` or
    ``(batch, leads, H, W, 3)`` of any size, 0-255, and only resize and rescale them
    (``standardize`` does not apply).
    """
    spec = get_spec(kind)
    if spec.saved_input is not None:
        return keras.Sequential([keras.Input(spec.saved_input(n_leads), name="image"),
                                 spec.step(options, float(sampling_rate))], name="prepare")
    steps = [CenterCropOrPad(window_samples, name="crop_or_pad")]
    if standardize:
        steps.append(Standardize(name="standardize"))
    if spec.step is not None:
        steps.append(spec.step(options, float(sampling_rate)))
    return keras.Sequential([keras.Input((None, int(n_leads)), name="signal_mv"), *steps], name="prepare")


def input_shape_of(prepare: keras.Model) -> tuple[int, ...]:
    """The network's input shape (without batch) that ``prepare`` makes."""
    return tuple(int(d) for d in prepare.output_shape[1:])


def with_prepare(network: keras.Model, prepare: keras.Model) -> keras.Model:
    """One model ``(batch, samples, leads) mV -> outputs``: ``prepare`` then ``network``."""
    image = len(prepare.input_shape) > 3  # printout kinds take images
    inputs = keras.Input(prepare.input_shape[1:], name="image" if image else "signal_mv")
    return keras.Model(inputs, network(prepare(inputs)), name=f"{network.name}_on_{'image' if image else 'signal'}")


def split_model(model: keras.Model) -> tuple[keras.Model | None, keras.Model]:
    """``(prepare, network)`` of a model from :func:`with_prepare`; ``(None, model)`` otherwise."""
    names = [layer.name for layer in model.layers]
    if "prepare" not in names:
        return None, model
    return model.get_layer("prepare"), model.layers[-1]


def is_graph_only(prepare: keras.Model) -> bool:
    """Whether every layer of ``prepare`` is a TensorFlow graph op (SavedModel export)."""
    return all(getattr(layer, "graph_op", True) for layer in prepare.layers)
