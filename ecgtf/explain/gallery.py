"""Explaining inputs of a run folder: one PNG per input, and an ``index.html`` gallery.

:func:`load_explainer` reads a run folder (:func:`ecgtf.training.saved.load_run`);
:func:`explain_one` takes an input the way the run's model takes it (decoded at the run's rate
with its filter by :func:`ecgtf.data.transforms.decode_signal`, centre window of the run's
length, the model's own ``prepare`` block), computes the heatmap on the network and draws it
the way the input kind's spec says (``draw``); :func:`explain_folder` does that for every
input of a folder and writes the gallery.

Inputs (``source``):

* a WFDB record path, with or without ``.hea`` (resampled to the run's rate, then filtered);
* a ``.npy`` array ``(samples, leads)`` in mV at the run's sampling rate (filtered as the run's
  records were);
* a record id of the run's dataset (read from the run's decoded dataset).
"""

from __future__ import annotations

import dataclasses
import glob
import html
import math
import os

import numpy as np
import tensorflow as tf

from ecgtf.data import spectrogram as speclib
from ecgtf.data.transforms import decode_signal, pad_or_crop
from ecgtf.explain import overlay
from ecgtf.explain.gradcam import gradcam, lead_attribution, predicted_classes
from ecgtf.inputs.specs import get_spec


@dataclasses.dataclass
class Explainer:
    """A run folder ready to explain inputs.

    Attributes:
        run: the :class:`ecgtf.training.saved.Run`.
        class_names: one name per class (binary: ``(negative, positive)``).
        threshold: binary decision threshold.
    """

    run: object
    class_names: list
    threshold: float = 0.5
    _data: object = None
    members: list = dataclasses.field(default_factory=list)  # an ensemble's, explained together

    @property
    def spec(self):
        return self.run.spec

    @property
    def kind(self) -> str:
        return self.run.spec.input_kind

    def data(self):
        """The run's decoded dataset (loaded on first use, for record-id inputs)."""
        if self._data is None:
            from ecgtf.inputs.runspec import load_run_data

            self._data = load_run_data(self.run.cfg)
        return self._data


def _class_names(spec, outputs: int) -> list:
    names = list(spec.class_names or [])
    if outputs == 1:
        pos = names[0] if len(names) == 1 else "positive"
        return [f"not {pos}", pos]
    return names if len(names) == outputs else [f"class {i}" for i in range(outputs)]


def load_explainer(run_dir: str, member: int | None = None) -> Explainer:
    """Reads ``run_dir`` (see :func:`ecgtf.training.saved.load_run`) into an :class:`Explainer`.

    For an ensemble folder: its ``member``-th member's run, or (``member`` None) the ensemble,
    whose heatmap is the mean of its members' heatmaps for the class the ensemble predicts.

    Raises:
        ValueError: ``member`` for a single run, or out of range.
    """
    from ecgtf.training.ensemble_run import is_ensemble, member_dirs
    from ecgtf.training.saved import load_run

    ensemble = is_ensemble(run_dir)
    if ensemble:
        members = member_dirs(run_dir)
        if member is not None:
            if not 0 <= member < len(members):
                raise ValueError(f"{run_dir} is an ensemble of {len(members)} runs: --member takes 0 to "
                                 f"{len(members) - 1}, got {member}")
            return load_explainer(members[member])
    elif member is not None:
        raise ValueError(f"--member is for ensemble folders; {run_dir} is a single run")
    run = load_run(run_dir, with_model=not ensemble)  # an ensemble's members are loaded one by one
    members = [load_explainer(m) for m in run.members or []]
    model = _first_single(members[0]).run.model if members else run.model
    names = _class_names(run.spec, int(model.outputs[0].shape[-1]))
    thresholds = run.thresholds
    threshold = float(thresholds[0]) if thresholds and len(names) == 2 and len(thresholds) == 1 else 0.5
    return Explainer(run, names, threshold, members=members)


def _first_single(explainer: Explainer) -> Explainer:
    """The explainer itself, or an ensemble's first single run (members take the same input)."""
    while explainer.members:
        explainer = explainer.members[0]
    return explainer


def top_frequency_hz(sampling_rate: float, options: dict) -> float:
    """Frequency (Hz) of the top row of the run's spectrogram images."""
    _, _, n_fft = speclib.frame_params(sampling_rate, options.get("window_s", speclib.DEFAULT_WINDOW_S),
                                       options.get("hop_s", speclib.DEFAULT_HOP_S), options.get("fft_length"))
    max_freq = options.get("max_freq_hz", speclib.DEFAULT_MAX_FREQ_HZ)
    bins = n_fft // 2 + 1 if max_freq is None else min(int(math.floor(max_freq * n_fft / sampling_rate)) + 1,
                                                         n_fft // 2 + 1)
    return (bins - 1) * sampling_rate / n_fft


def load_input(explainer: Explainer, source: str) -> tuple[str, np.ndarray]:
    """``(record_id, signal)``: the decoded signal ``(samples, leads)`` in mV at the run's rate,
    after the run's filter. A file is checked as training checks records (NaN samples, an
    all-flat signal, a malformed array): such a record raises ``RecordError`` naming it."""
    from ecgtf.data.record import Record, validate_record
    from ecgtf.data.wfdb_io import read_record

    spec = explainer.spec
    base = source[:-4] if source.endswith(".hea") else source
    if source.endswith(".npy"):
        array = np.load(source).astype(np.float32)
        if array.ndim != 2:
            raise ValueError(f"{source}: expected a signal (samples, leads), got shape {array.shape}")
        rec = Record(os.path.splitext(os.path.basename(source))[0], array,
                     tuple(f"lead {i + 1}" for i in range(array.shape[1])), spec.sampling_rate)
    elif os.path.isfile(base + ".hea"):
        rec = read_record(base)
    else:
        data = explainer.data()
        ids = data.meta["record_id"].astype(str).to_numpy()
        hits = np.flatnonzero(ids == str(source))
        if not len(hits):
            raise FileNotFoundError(f"{source!r} is neither a WFDB record, a .npy file nor a record id of "
                                    f"{data.name} ({len(ids)} records, e.g. {', '.join(ids[:3])})")
        return str(source), data.signal(int(hits[0]))  # decoded and checked when the dataset was read
    _check_leads(explainer, rec.signal_mv)
    validate_record(rec)
    return rec.record_id, decode_signal(rec.signal_mv, rec.sampling_rate, spec.sampling_rate, spec.signal_filter)


def class_index(explainer: Explainer, name: str | None) -> int | None:
    """Index of class ``name`` (a class name or an integer), None for the predicted class."""
    if name is None:
        return None
    if name in explainer.class_names:
        return explainer.class_names.index(name)
    if str(name).isdigit() and int(name) < len(explainer.class_names):
        return int(name)
    raise ValueError(f"unknown class {name!r}; valid: {', '.join(explainer.class_names)}")


def _check_leads(explainer: Explainer, signal: np.ndarray) -> None:
    explainer = _first_single(explainer)
    leads = explainer.spec.n_leads if explainer.spec.printout else explainer.run.prepare.input_shape[-1]
    if signal.ndim != 2:
        raise ValueError(f"expected a signal (samples, leads), got shape {signal.shape}")
    if signal.shape[1] != leads:
        raise ValueError(f"model {explainer.run.cfg.model} takes {leads} lead(s); the input has {signal.shape[1]}")


def model_input(explainer: Explainer, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(window_mv, network input batch of 1)`` of a decoded signal: the centre window of the
    run's length, through the model's own ``prepare`` block. A printout run renders the record
    first (:func:`ecgtf.data.images.spec_image`, the window it prints is returned)."""
    _check_leads(explainer, signal)
    if explainer.spec.printout:
        from ecgtf.data.images import spec_image

        window = pad_or_crop(signal, explainer.spec.window_samples, start=0, pad_mode="end")
        image = spec_image(signal, explainer.spec)
        return window, np.asarray(explainer.run.prepare(tf.constant(image[None])), np.float32)
    window = pad_or_crop(signal, explainer.spec.window_samples)
    return window, np.asarray(explainer.run.prepare(tf.constant(window[None])), np.float32)


def _draw_signal(explainer, window, x, heat, out_png, lead_names, title, explained, lead_scores=None):
    """The window with the Grad-CAM time band once and, for several leads, each lead's
    integrated-gradients attribution (which lead mattered, not only when)."""
    scores = lead_scores
    if scores is None and window.shape[1] > 1:
        scores = lead_attribution(explainer.run.network, x, class_index=explained)[0]
    overlay.plot_raw(window, heat, explainer.spec.sampling_rate, out_png, lead_names=lead_names, title=title,
                     lead_scores=scores)


def _draw_beat(explainer, window, x, heat, out_png, lead_names, title, explained):
    before = explainer.spec.input_options["before_s"]  # the beat the model saw, not its window
    overlay.plot_raw(x[0], heat, explainer.spec.sampling_rate, out_png, lead_names=lead_names,
                     title=f"{title}\nmedian beat, QRS at {before:g} s")


def _draw_spectrogram(explainer, window, x, heat, out_png, lead_names, title, explained):
    rate = explainer.spec.sampling_rate
    overlay.plot_spectrogram(window, x[0], heat, rate, out_png, lead_names=lead_names,
                             max_freq_hz=top_frequency_hz(rate, explainer.spec.input_options), title=title)


def _draw_image(explainer, window, x, heat, out_png, lead_names, title, explained):
    overlay.plot_image(x[0], heat, out_png, title=f"{title}\n{explainer.spec.input_options['layout']} printout")


def _draw_lead_images(explainer, window, x, heat, out_png, lead_names, title, explained):
    """One row per lead: its printout strip under its own heatmap, and the share of the
    example's heat that fell on it (which lead mattered)."""
    import matplotlib.pyplot as plt

    images, maps = x[0], heat
    share = maps.sum(axis=(1, 2))
    share = share / share.sum() if share.sum() > 0 else share
    names = list(lead_names or [f"lead {i + 1}" for i in range(len(images))])
    fig, axes = plt.subplots(len(images), 1, figsize=(8, 0.9 * len(images) + 0.6), squeeze=False)
    for k, ax in enumerate(axes[:, 0]):
        ax.imshow(np.clip(images[k], 0, 1))
        ax.imshow(maps[k], cmap=overlay.CMAP, alpha=overlay.ALPHA, vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"{names[k]}\n{100 * share[k]:.0f}%", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=9)
    os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
    fig.savefig(out_png, dpi=100, bbox_inches="tight")
    plt.close(fig)


#: How an explained input is drawn, by the ``draw`` of its input kind's spec.
DRAWERS = {"signal": _draw_signal, "beat": _draw_beat, "spectrogram": _draw_spectrogram, "image": _draw_image,
           "lead_images": _draw_lead_images}


def explain_one(explainer: Explainer, source: str, out_png: str, *, class_name: str | None = None,
                method: str = "gradcam") -> dict:
    """Explains one input and writes its PNG.

    Returns:
        ``{"record_id", "png", "predicted", "probability", "explained", "method"}``.
    """
    record_id, signal = load_input(explainer, source)
    if explainer.members:
        return _explain_ensemble(explainer, source, record_id, signal, out_png, class_name, method)
    window, x = model_input(explainer, signal)
    network = explainer.run.network
    probs = np.asarray(network(x, training=False))[0]
    pred, prob, explained = _decision(explainer, probs, class_name)
    heat = gradcam(network, x, class_index=explained, method=method)[0]
    names = explainer.class_names
    title = (f"{record_id}: predicted {names[pred]} (p={prob:.2f}); "
             f"{method} for {names[explained]}")
    lead_names = _lead_names(source, window.shape[1]) or explainer.spec.lead_names
    DRAWERS[get_spec(explainer.kind).draw](explainer, window, x, heat, out_png, lead_names, title, explained)
    return {"record_id": record_id, "png": out_png, "predicted": names[pred], "probability": prob,
            "explained": names[explained], "method": method}


def _decision(explainer: Explainer, probs: np.ndarray, class_name: str | None) -> tuple[int, float, int]:
    """``(predicted class, its probability, class to explain)`` of one example's probabilities."""
    pred = int(predicted_classes(probs[None], explainer.threshold)[0])
    prob = float(probs[0] if pred == 1 else 1.0 - probs[0]) if probs.shape[-1] == 1 else float(probs[pred])
    target = class_index(explainer, class_name)
    return pred, prob, pred if target is None else target


def _explain_ensemble(explainer: Explainer, source: str, record_id: str, signal: np.ndarray, out_png: str,
                      class_name: str | None, method: str) -> dict:
    """The ensemble's prediction (its members' mean probability, its threshold) and the mean of
    the members' heatmaps for that class, each member on its own prepared input; the lead
    attributions of raw-signal members are averaged too. Drawn on the first member's input."""
    members, weights = _leaves(explainer)
    inputs = [model_input(m, signal) for m in members]
    probs = np.einsum("m,mk->k", weights, [np.asarray(m.run.network(x, training=False))[0]
                                          for m, (_, x) in zip(members, inputs)])
    pred, prob, explained = _decision(explainer, probs, class_name)
    heats = [gradcam(m.run.network, x, class_index=explained, method=method)[0] for m, (_, x) in zip(members, inputs)]
    if len({h.shape for h in heats}) > 1:
        raise ValueError(f"the members' heatmaps differ in shape ({', '.join(str(h.shape) for h in heats)}), so "
                         f"they cannot be averaged: explain one member with --member K")
    heat = np.tensordot(weights, np.asarray(heats), axes=1)
    heat = heat / heat.max() if heat.max() > 0 else heat
    first, (window, x) = members[0], inputs[0]
    extra = {}
    if get_spec(first.kind).draw == "signal" and window.shape[1] > 1:
        extra["lead_scores"] = np.tensordot(weights, np.asarray(
            [lead_attribution(m.run.network, xm, class_index=explained)[0] for m, (_, xm) in zip(members, inputs)]),
            axes=1)
    names = explainer.class_names
    title = (f"{record_id}: ensemble of {len(explainer.members)} predicts {names[pred]} (p={prob:.2f}); "
             f"mean {method} of its members for {names[explained]}")
    lead_names = _lead_names(source, window.shape[1]) or explainer.spec.lead_names
    DRAWERS[get_spec(first.kind).draw](first, window, x, heat, out_png, lead_names, title, explained, **extra)
    return {"record_id": record_id, "png": out_png, "predicted": names[pred], "probability": prob,
            "explained": names[explained], "method": method}


def _leaves(explainer: Explainer) -> tuple[list[Explainer], np.ndarray]:
    """The single runs under an ensemble (an ensemble of ensembles included) and the weight
    of each in its mean probability."""
    leaves, weights = [], []
    for member in explainer.members:
        if member.members:
            sub, w = _leaves(member)
            leaves += sub
            weights += list(w / len(explainer.members))
        else:
            leaves.append(member)
            weights.append(1.0 / len(explainer.members))
    return leaves, np.asarray(weights)


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
    write_index(rows, out_dir, title=f"{explainer.run.cfg.model}: {method}")
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
