"""A run folder as a TF Serving SavedModel: ``DIR/<name>/<version>/`` (``keras.export.ExportArchive``).

Signatures (a printout run, ``image``/``lead_images``, takes ``image_bytes`` instead of
``signal_mv``: encoded PNG/JPEG strings, ``(batch,)`` or ``(batch, leads)``, decoded in the graph):

* ``serving_default``: ``signal_mv`` float32 ``(batch, samples, leads)``, the raw signal in mV at
  the run's sampling rate and in its lead order, any number of samples (records of different
  lengths are zero-padded at the end into one batch; the padding is ignored when the run
  averages windows). Inside the graph: the windows of the run's crop averaging (or its centre
  window), the run's ``prepare`` block (pad/crop, standardisation, spectrogram) and the network.
  Outputs ``probabilities`` float32 ``(batch, classes)`` (the prior shift is already folded into
  ``model.keras``'s head) and ``decisions`` int32 ``(batch, classes)`` (the run's tuned thresholds,
  ``>=``; one-hot argmax for multiclass tasks), as ``evaluate.py`` decides.
* ``metadata``: no input; ``metadata_json`` (the ``assets/metadata.json`` file: class names, lead
  order, sampling rate, units, window, thresholds), ``class_names``, ``lead_names``,
  ``sampling_rate``, ``units``.

What cannot be exported raises :class:`ExportError` naming the step and what to do instead: a
``prepare`` step that is not a graph op (the median beat), a whole-record filter at decode
(``--signal-filter``), an input kind this module does not know.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

import numpy as np

from ecgtf.serving.readme import export_readme

#: Input kinds the export knows: the raw signal goes into the graph as ``signal_mv``; printouts
#: as encoded PNG/JPEG bytes, ``image_bytes`` (one per record, or one per lead for ``lead_images``).
SIGNAL_KINDS = ("raw", "spectrogram")
IMAGE_KINDS = ("image", "lead_images")
METADATA_FILE = "metadata.json"


class ExportError(ValueError):
    """A run that cannot become a SavedModel; the message names the step and the alternative."""


def check_exportable(run) -> None:
    """Raises :class:`ExportError` when ``run`` (a :class:`ecgtf.training.saved.Run`) cannot be
    exported as one graph."""
    from ecgtf.inputs.specs import INPUT_SPECS

    spec = run.spec
    known = INPUT_SPECS.get(spec.input_kind)
    if spec.input_kind not in SIGNAL_KINDS + IMAGE_KINDS and (known is None or known.graph_op):
        raise ExportError(f"input kind {spec.input_kind!r} of run {run.dir} is not one the SavedModel export "
                          f"knows (it exports: {', '.join(SIGNAL_KINDS + IMAGE_KINDS)}); use scripts/predict.py "
                          f"--model {run.dir} instead")
    prepare = run.prepare
    for layer in prepare.layers if prepare is not None else ():
        if not getattr(layer, "graph_op", True):
            note = INPUT_SPECS[spec.input_kind].note
            raise ExportError(f"the {layer.name!r} step of run {run.dir} (input kind {spec.input_kind}) cannot be "
                              f"a SavedModel graph op: {note}. Score this run with scripts/predict.py --model "
                              f"{run.dir} (it runs the step in Python), or train a raw or spectrogram model "
                              "(e.g. --model compact1d) to serve with TF Serving")
    if run.members and not spec.graph_op:  # an ensemble: its members' prepare blocks sit inside the average
        raise ExportError(f"ensemble {run.dir} has members whose {spec.input_kind!r} step cannot be a SavedModel "
                          f"graph op: {INPUT_SPECS[spec.input_kind].note}. Score it with scripts/predict.py "
                          f"--model {run.dir}, or ensemble raw or spectrogram runs to serve with TF Serving")
    if spec.signal_filter != "none" and spec.input_kind not in IMAGE_KINDS:
        raise ExportError(f"run {run.dir} filters each whole record at decode (--signal-filter "
                          f"{spec.signal_filter}, a forward-backward filter over the whole record), which is not "
                          "part of the SavedModel graph; filter the signal before sending it (ecgtf.data.transforms."
                          f"decode_signal(x, rate, rate, {spec.signal_filter!r})), score with scripts/predict.py, "
                          "or train with --signal-filter none to serve raw signals")


def metadata(run) -> dict:
    """What a client needs to build a request and read the answer (written to ``assets/``)."""
    spec = run.spec
    return {"model": spec.model, "dataset": spec.dataset, "task": spec.task, "task_kind": spec.task_kind,
            "class_names": list(spec.class_names), "lead_names": list(spec.lead_names or []),
            "n_leads": n_leads_of(run), "sampling_rate": float(spec.sampling_rate),
            "units": spec.units, "window_samples": int(spec.window_samples),
            "eval_hop_samples": spec.eval_hop_samples, "input_kind": spec.input_kind,
            "thresholds": run.thresholds, "prior_shift_folded": run.prior_shift is not None,
            "input_options": dict(spec.input_options), "signal_filter": spec.signal_filter,
            "signature": {"name": "serving_default", "input": input_name(spec),
                          "outputs": ["probabilities", "decisions"]}}


def n_leads_of(run) -> int:
    """Leads the run's model takes (a printout model's input is an image: its lead names count)."""
    if run.spec.input_kind in IMAGE_KINDS:
        return len(run.spec.lead_names or ()) or int(run.model.inputs[0].shape[1] or 0)
    return int(run.model.inputs[0].shape[-1])


def input_name(spec) -> str:
    return "image_bytes" if spec.input_kind in IMAGE_KINDS else "signal_mv"


def input_signature(run, n_leads: int):
    """The ``serving_default`` input: ``signal_mv`` float32 ``(batch, samples, leads)``, or
    ``image_bytes`` string ``(batch,)`` (``(batch, leads)`` for ``lead_images``)."""
    import tensorflow as tf

    kind = run.spec.input_kind
    if kind == "image":
        return tf.TensorSpec((None,), tf.string, name="image_bytes")
    if kind == "lead_images":
        return tf.TensorSpec((None, n_leads), tf.string, name="image_bytes")
    return tf.TensorSpec((None, None, n_leads), tf.float32, name="signal_mv")


def image_probabilities_fn(run):
    """``image_bytes -> probabilities``: each record's PNG/JPEG decoded (``tf.io.decode_image``, RGB)
    and fed to the run's model (its ``prepare`` block resizes and scales), one record at a time
    so that images of any size can share a request."""
    import tensorflow as tf

    model, per_lead = run.model, run.spec.input_kind == "lead_images"
    classes = int(model.output_shape[-1])

    def decode(encoded):
        return tf.io.decode_image(encoded, channels=3, expand_animations=False)

    def one(encoded):
        if per_lead:
            x = tf.map_fn(decode, encoded, fn_output_signature=tf.TensorSpec((None, None, 3), tf.uint8))
        else:
            x = decode(encoded)
        return model(tf.cast(x, tf.float32)[None], training=False)[0]

    return lambda image_bytes: tf.map_fn(one, image_bytes, fn_output_signature=tf.TensorSpec((classes,), tf.float32))


def decide(probs, task_kind: str, thresholds):
    """``decisions`` int32 from ``probs``, as :func:`ecgtf.evaluation.thresholds.apply_thresholds`."""
    import tensorflow as tf

    if task_kind == "multiclass":
        return tf.one_hot(tf.argmax(probs, axis=-1), tf.shape(probs)[-1], dtype=tf.int32)
    thr = np.full(probs.shape[-1], 0.5, np.float32) if thresholds is None else np.asarray(thresholds, np.float32)
    return tf.cast(probs >= tf.constant(thr), tf.int32)


def probabilities_fn(run):
    """``signal_mv (batch, samples, leads) -> probabilities`` in TensorFlow ops, the run's windows."""
    from ecgtf.serving.windows import windowed_probabilities

    model, spec = run.model, run.spec
    if spec.input_kind in IMAGE_KINDS:
        return image_probabilities_fn(run)

    def predict(x):
        return model(x, training=False)

    if spec.eval_hop_samples is None:  # the centre window (the model's own crop-or-pad)
        return predict
    return lambda x: windowed_probabilities(predict, x, spec.window_samples, spec.eval_hop_samples)


def example_signal(meta: dict) -> np.ndarray:
    """A made-up record for the README's requests: ``(1, window_samples, leads)`` float32 mV, a
    narrow 1 mV peak every 0.8 s on every lead (smaller on later leads)."""
    rate, n = meta["sampling_rate"], meta["window_samples"]
    t = np.arange(n) / rate
    beat = sum(np.exp(-(((t - c) / 0.012) ** 2)) for c in np.arange(0.4, n / rate, 0.8))
    leads = np.stack([beat * (1.0 - 0.05 * i) for i in range(meta["n_leads"])], axis=-1)
    return np.round(leads, 4).astype(np.float32)[None]


def example_input(run, meta: dict):
    """The README's example input: :func:`example_signal`, or for a printout run that record
    rendered as the run renders it, PNG-encoded (``(1,)`` or ``(1, leads)`` bytes)."""
    signal = example_signal(meta)
    if run.spec.input_kind not in IMAGE_KINDS:
        return signal
    import tensorflow as tf

    from ecgtf.data.images import record_image

    spec = run.spec
    names = spec.lead_names or [f"lead{i + 1}" for i in range(meta["n_leads"])]
    image = record_image(signal[0], spec.options(), sampling_rate=spec.sampling_rate, lead_names=names,
                         window_samples=spec.window_samples)
    if image.ndim == 4:
        return np.asarray([[tf.io.encode_png(lead).numpy() for lead in image]], dtype=object)
    return np.asarray([tf.io.encode_png(image).numpy()], dtype=object)


def _rest_value(value):
    """An instance in TF Serving's REST row format (bytes as ``{"b64": ...}``)."""
    import base64

    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return [_rest_value(v) for v in value]
    return np.asarray(value).tolist()


def write_examples(saved_dir: str, example, input_key: str = "signal_mv") -> None:
    """``example_request.json`` (REST row format) and the exported model's answer to it,
    ``example_response.json``, in ``saved_dir``."""
    import tensorflow as tf

    answer = tf.saved_model.load(saved_dir).signatures["serving_default"](**{input_key: tf.constant(example)})
    rows = [{k: answer[k].numpy()[i].tolist() for k in ("probabilities", "decisions")} for i in range(len(example))]
    with open(os.path.join(saved_dir, "example_request.json"), "w") as f:
        json.dump({"signature_name": "serving_default", "instances": [_rest_value(v) for v in example]}, f)
    with open(os.path.join(saved_dir, "example_response.json"), "w") as f:
        json.dump({"predictions": rows}, f, indent=1)


def next_version(base: str) -> int:
    """One more than the highest numbered folder in ``base`` (1 when none)."""
    if not os.path.isdir(base):
        return 1
    versions = [int(d) for d in os.listdir(base) if d.isdigit()]
    return max(versions, default=0) + 1


def export_name(spec) -> str:
    """Default model name in the serving layout: ``<model>_<task>``, characters TF Serving's REST
    path takes."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{spec.model}_{spec.task}")


def export_run(run_dir: str, out_dir: str, version: int | None = None, name: str | None = None) -> str:
    """Writes the SavedModel of a run folder to ``out_dir/<name>/<version>/``.

    Args:
        run_dir: a finished run folder (``scripts/train.py``).
        out_dir: the model base folder TF Serving watches (``--model_base_path``'s parent).
        version: positive integer; None takes the next free one.
        name: model name; None gives :func:`export_name`.

    Returns:
        The version folder.

    Raises:
        ExportError: the run has a step that cannot be a graph op (see :func:`check_exportable`).
        FileExistsError: the version folder already exists.
    """
    import keras
    import tensorflow as tf

    from ecgtf.training.saved import load_run

    run = load_run(run_dir)
    check_exportable(run)
    name = name or export_name(run.spec)
    base = os.path.join(out_dir, name)
    version = next_version(base) if version is None else int(version)
    if version < 1:
        raise ValueError(f"--version must be a positive integer, got {version}")
    target = os.path.join(base, str(version))
    if os.path.exists(target):
        raise FileExistsError(f"{target} already exists; give another --version")
    meta = metadata(run)
    n_leads = meta["n_leads"]
    probabilities = probabilities_fn(run)
    kind, thresholds = run.spec.task_kind, run.thresholds

    os.makedirs(base, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{version}.partial-", dir=base)
    try:
        meta_path = os.path.join(staging, METADATA_FILE)
        with open(meta_path, "w") as f:
            json.dump(meta, f)  # one line: the table below maps line 0 to it
        # A lookup table is what ExportArchive tracks with its asset file: the file is copied to
        # assets/ and the metadata signature reads it back from there.
        table = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            meta_path, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER, tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE), default_value="")

        def serve(inputs):
            probs = probabilities(inputs)
            return {"probabilities": tf.identity(probs, name="probabilities"),
                    "decisions": decide(probs, kind, thresholds)}

        def describe():
            return {"metadata_json": table.lookup(tf.constant(0, tf.int64)),
                    "class_names": tf.constant(meta["class_names"], tf.string),
                    "lead_names": tf.constant(meta["lead_names"], tf.string),
                    "sampling_rate": tf.constant(meta["sampling_rate"], tf.float32),
                    "units": tf.constant(meta["units"], tf.string)}

        archive = keras.export.ExportArchive()
        archive.track(run.model)
        archive.track(table)
        archive.add_endpoint("serving_default", serve, input_signature=[input_signature(run, n_leads)])
        archive.add_endpoint("metadata", describe, input_signature=[])
        saved = os.path.join(staging, "saved_model")
        archive.write_out(saved, verbose=False)
        write_examples(saved, example_input(run, meta), meta["signature"]["input"])
        with open(os.path.join(saved, "README.md"), "w") as f:
            f.write(export_readme(meta, name, version, out_dir))
        os.replace(saved, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
