"""Explaining inputs of a run folder: one PNG per input, and an ``index.html`` gallery.

:func:`load_explainer` reads a run folder (``config.yaml`` + ``model.keras``, optional
``thresholds.json``) and rebuilds the run's input transform; :func:`explain_one` takes
an input the way training saw it (resampled to the run's rate, centre window of the
run's length, the run's ``prepare``), computes the heatmap and draws it;
:func:`explain_folder` does that for every input of a folder and writes the gallery.

Inputs (``source``):

* a WFDB record path, with or without ``.hea`` (resampled to the run's rate);
* a ``.npy`` array ``(samples, leads)`` in mV at the run's sampling rate, or, for
  image models, an ``(H, W, C)`` image (resized to the model input);
* a record id of the run's dataset (the dataset is loaded through ``prepare_run``).
"""

from __future__ import annotations

import dataclasses
import glob
import html
import math
import os

import keras
import numpy as np
import tensorflow as tf

from ecgtf.config import TrainConfig
from ecgtf.data import spectrogram as speclib
from ecgtf.data.beats import DEFAULT_BEFORE_S
from ecgtf.data.pipeline import window
from ecgtf.data.transforms import resample
from ecgtf.explain import overlay
from ecgtf.explain.gradcam import gradcam, predicted_classes, spatial_rank
from ecgtf.training import inputs as inputlib


@dataclasses.dataclass
class Explainer:
    """A run folder ready to explain inputs.

    Attributes:
        cfg: the run's :class:`TrainConfig`.
        model: the run's model.
        kind: input kind (``raw``, ``median_beat``, ``spectrogram``, ``image``...).
        sampling_rate: the run's rate in Hz.
        prepare: batch transform ``(batch, samples, leads)`` mV -> model input; None for
            image runs (no signal-to-image pipeline yet).
        class_names: one name per class (binary: ``(negative, positive)``).
        threshold: binary decision threshold.
        input_options: the run's input options (spectrogram or median-beat; for axis labels).
    """

    cfg: TrainConfig
    model: keras.Model
    kind: str
    sampling_rate: float
    prepare: object
    class_names: list
    threshold: float = 0.5
    input_options: dict = dataclasses.field(default_factory=dict)
    _data: object = None

    @property
    def window_samples(self) -> int | None:
        """The run's window length in samples (None: the whole input)."""
        if self.cfg.duration_s:
            return int(round(self.cfg.duration_s * self.sampling_rate))
        length = self.model.inputs[0].shape[1] if self.kind == "raw" else None
        return int(length) if length else None

    def data(self):
        """The run's dataset (loaded on first use, for record-id inputs)."""
        if self._data is None:
            from ecgtf.training.trainer import prepare_run

            self._data = prepare_run(self.cfg)[0]
        return self._data


def _class_names(run_dir: str, outputs: int) -> list:
    from ecgtf.training.saved import read_thresholds

    saved = read_thresholds(run_dir)
    names = saved.get("classes")
    if outputs == 1:
        pos = names[0] if names else "positive"
        return [f"not {pos}", pos], saved.get("thresholds")
    return (list(names) if names and len(names) == outputs else [f"class {i}" for i in range(outputs)],
            saved.get("thresholds"))


def load_explainer(run_dir: str) -> Explainer:
    """Reads ``run_dir`` (``config.yaml``, ``model.keras``) into an :class:`Explainer`.

    A model name missing from the registry is taken as an image model when its input is
    4-D and as a raw model when it is 3-D.
    """
    from ecgtf.training.saved import load_run

    cfg, model, _ = load_run(run_dir)
    rate = cfg.sampling_rate
    if not rate:
        raise ValueError(f"{run_dir}: config.yaml has no sampling_rate (runs from train.py always save it)")
    from ecgtf.models.registry import get_entry

    try:
        entry = get_entry(cfg.model)
        kind = entry.input_kind
    except KeyError:
        entry, kind = None, "raw" if spatial_rank(model) == 1 else "image"
    input_opts, prepare = {}, None
    if entry is not None:
        input_opts, _ = inputlib.split_options(entry, cfg.model_options)
    if kind in ("raw", "median_beat", "spectrogram"):
        prepare = inputlib.make_prepare(entry, rate, cfg.standardize, input_opts) if entry else (
            inputlib.standardize_batch if cfg.standardize else (lambda x: x))
    names, thresholds = _class_names(run_dir, int(model.outputs[0].shape[-1]))
    threshold = float(thresholds[0]) if thresholds and len(names) == 2 and len(thresholds) == 1 else 0.5
    return Explainer(cfg, model, kind, float(rate), prepare, names, threshold, input_opts)


def top_frequency_hz(sampling_rate: float, options: dict) -> float:
    """Frequency (Hz) of the top row of the run's spectrogram images."""
    _, _, n_fft = speclib.frame_params(sampling_rate, options.get("window_s", speclib.DEFAULT_WINDOW_S),
                                       options.get("hop_s", speclib.DEFAULT_HOP_S), options.get("fft_length"))
    max_freq = options.get("max_freq_hz", speclib.DEFAULT_MAX_FREQ_HZ)
    bins = n_fft // 2 + 1 if max_freq is None else min(int(math.floor(max_freq * n_fft / sampling_rate)) + 1,
                                                         n_fft // 2 + 1)
    return (bins - 1) * sampling_rate / n_fft


def load_input(explainer: Explainer, source: str) -> tuple[str, np.ndarray]:
    """``(record_id, array)``: a signal ``(samples, leads)`` in mV at the run's rate, or an image."""
    from ecgtf.data.wfdb_io import read_record

    base = source[:-4] if source.endswith(".hea") else source
    if source.endswith(".npy"):
        return os.path.splitext(os.path.basename(source))[0], np.load(source).astype(np.float32)
    if os.path.isfile(base + ".hea"):
        rec = read_record(base)
        return rec.record_id, resample(rec.signal_mv, rec.sampling_rate, explainer.sampling_rate)
    data = explainer.data()
    ids = data.meta["record_id"].astype(str).to_numpy()
    hits = np.flatnonzero(ids == str(source))
    if not len(hits):
        raise FileNotFoundError(f"{source!r} is neither a WFDB record, a .npy file nor a record id of "
                                f"{data.name} ({len(ids)} records, e.g. {', '.join(ids[:3])})")
    return str(source), data.signal(int(hits[0]))


def class_index(explainer: Explainer, name: str | None) -> int | None:
    """Index of class ``name`` (a class name or an integer), None for the predicted class."""
    if name is None:
        return None
    if name in explainer.class_names:
        return explainer.class_names.index(name)
    if str(name).isdigit() and int(name) < len(explainer.class_names):
        return int(name)
    raise ValueError(f"unknown class {name!r}; valid: {', '.join(explainer.class_names)}")


def _model_input(explainer: Explainer, array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(window_mv or image, model input batch of 1)``."""
    expected = tuple(explainer.model.inputs[0].shape[1:])
    if explainer.prepare is None:  # image models: the input is already an image
        if array.ndim != 3:
            raise ValueError(f"model {explainer.cfg.model} takes images {expected}; this input kind "
                             f"({explainer.kind}) has no signal-to-image pipeline yet: pass an (H, W, C) .npy")
        image = tf.image.resize(array, expected[:2]).numpy() if array.shape[:2] != expected[:2] else array
        return image, image[None].astype(np.float32)
    if array.ndim != 2:
        raise ValueError(f"expected a signal (samples, leads), got shape {array.shape}")
    if array.shape[1] != expected[-1] and explainer.kind in ("raw", "median_beat"):
        raise ValueError(f"model {explainer.cfg.model} takes {expected[-1]} lead(s); the input has {array.shape[1]}")
    length = explainer.window_samples or array.shape[0]
    crop = window(array, length)
    return crop, np.asarray(explainer.prepare(tf.constant(crop[None])), np.float32)


def explain_one(explainer: Explainer, source: str, out_png: str, *, class_name: str | None = None,
                method: str = "gradcam") -> dict:
    """Explains one input and writes its PNG.

    Returns:
        ``{"record_id", "png", "predicted", "probability", "explained", "method"}``.
    """
    record_id, array = load_input(explainer, source)
    shown, x = _model_input(explainer, array)
    probs = np.asarray(explainer.model(x, training=False))[0]
    pred = int(predicted_classes(probs[None], explainer.threshold)[0])
    prob = float(probs[0] if pred == 1 else 1.0 - probs[0]) if probs.shape[-1] == 1 else float(probs[pred])
    target = class_index(explainer, class_name)
    explained = pred if target is None else target
    heat = gradcam(explainer.model, x, class_index=explained, method=method)[0]
    names = explainer.class_names
    title = (f"{record_id}: predicted {names[pred]} (p={prob:.2f}); "
             f"{method} for {names[explained]}")
    lead_names = None
    if explainer.kind != "image":
        lead_names = _lead_names(source, shown.shape[1])
    if explainer.kind == "raw":
        overlay.plot_raw(shown, heat, explainer.sampling_rate, out_png, lead_names=lead_names, title=title)
    elif explainer.kind == "median_beat":  # draw the beat the model saw, not the window it came from
        before = explainer.input_options.get("before_s", DEFAULT_BEFORE_S)
        overlay.plot_raw(x[0], heat, explainer.sampling_rate, out_png, lead_names=lead_names,
                         title=f"{title}\nmedian beat, QRS at {before:g} s")
    elif explainer.kind == "spectrogram":
        overlay.plot_spectrogram(shown, x[0], heat, explainer.sampling_rate, out_png, lead_names=lead_names,
                                 max_freq_hz=top_frequency_hz(explainer.sampling_rate, explainer.input_options),
                                 title=title)
    else:
        overlay.plot_image(shown, heat, out_png, title=title)
    return {"record_id": record_id, "png": out_png, "predicted": names[pred], "probability": prob,
            "explained": names[explained], "method": method}


def _lead_names(source: str, leads: int):
    from ecgtf.data.wfdb_io import read_header

    base = source[:-4] if source.endswith(".hea") else source
    if os.path.isfile(base + ".hea"):
        names = list(read_header(base).sig_name)
        if len(names) == leads:
            return names
    return None


def folder_inputs(folder: str) -> list[str]:
    """WFDB records (``*.hea``, returned without extension) and ``*.npy`` files of ``folder``, sorted."""
    found = [p[:-4] for p in glob.glob(os.path.join(folder, "*.hea"))] + glob.glob(os.path.join(folder, "*.npy"))
    return sorted(found)


def explain_folder(explainer: Explainer, folder: str, out_dir: str, *, class_name: str | None = None,
                   method: str = "gradcam") -> list[dict]:
    """One PNG per input of ``folder`` into ``out_dir``, plus ``out_dir/index.html``."""
    sources = folder_inputs(folder)
    if not sources:
        raise FileNotFoundError(f"no WFDB records (.hea) or .npy files in {folder!r}")
    rows = []
    for source in sources:
        name = os.path.splitext(os.path.basename(source))[0] if source.endswith(".npy") else os.path.basename(source)
        rows.append(explain_one(explainer, source, os.path.join(out_dir, f"{name}.png"), class_name=class_name,
                                method=method))
    write_index(rows, out_dir, title=f"{explainer.cfg.model}: {method}")
    return rows


def write_index(rows: list[dict], out_dir: str, *, title: str = "Grad-CAM gallery") -> str:
    """Writes ``out_dir/index.html``: thumbnails linking to each PNG (relative links, no
    external resources) with record id, predicted class and probability."""
    cards = []
    for row in rows:
        rel = html.escape(os.path.relpath(row["png"], out_dir).replace(os.sep, "/"), quote=True)
        cards.append(
            f'<figure><a href="{rel}"><img src="{rel}" alt="{html.escape(row["record_id"])}"></a>'
            f'<figcaption><b>{html.escape(row["record_id"])}</b><br>predicted {html.escape(row["predicted"])} '
            f'(p={row["probability"]:.2f})<br>explained {html.escape(row["explained"])}</figcaption></figure>')
    page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.escape(title) + "</title>\n"
            "<style>body{font-family:sans-serif;margin:16px}main{display:flex;flex-wrap:wrap;gap:12px}"
            "figure{margin:0;width:300px;border:1px solid #ccc;padding:6px}img{width:100%}"
            "figcaption{font-size:13px}</style></head>\n<body><h1>" + html.escape(title) + "</h1>\n<main>\n"
            + "\n".join(cards) + "\n</main></body></html>\n")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "index.html")
    with open(path, "w") as f:
        f.write(page)
    return path
