"""A run folder as a TF Serving SavedModel: ``DIR/<name>/<version>/`` (``keras.export.ExportArchive``).

Signatures:

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

#: Input kinds the export knows: the raw signal goes into the graph as ``signal_mv``.
SIGNAL_KINDS = ("raw", "spectrogram")
METADATA_FILE = "metadata.json"


class ExportError(ValueError):
    """A run that cannot become a SavedModel; the message names the step and the alternative."""


def check_exportable(run) -> None:
    """Raises :class:`ExportError` when ``run`` (a :class:`ecgtf.training.saved.Run`) cannot be
    exported as one graph."""
    from ecgtf.inputs.specs import INPUT_SPECS

    spec = run.spec
    known = INPUT_SPECS.get(spec.input_kind)
    if spec.input_kind not in SIGNAL_KINDS and (known is None or known.graph_op):
        raise ExportError(f"input kind {spec.input_kind!r} of run {run.dir} is not one the SavedModel export "
                          f"knows (it exports: {', '.join(SIGNAL_KINDS)}); use scripts/predict.py --model "
                          f"{run.dir} instead")
    prepare = run.prepare
    for layer in prepare.layers if prepare is not None else ():
        if not getattr(layer, "graph_op", True):
            note = INPUT_SPECS[spec.input_kind].note
            raise ExportError(f"the {layer.name!r} step of run {run.dir} (input kind {spec.input_kind}) cannot be "
                              f"a SavedModel graph op: {note}. Score this run with scripts/predict.py --model "
                              f"{run.dir} (it runs the step in Python), or train a raw or spectrogram model "
                              "(e.g. --model compact1d) to serve with TF Serving")
    if spec.signal_filter != "none":
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
            "n_leads": int(run.model.inputs[0].shape[-1]), "sampling_rate": float(spec.sampling_rate),
            "units": spec.units, "window_samples": int(spec.window_samples),
            "eval_hop_samples": spec.eval_hop_samples, "input_kind": spec.input_kind,
            "thresholds": run.thresholds, "prior_shift_folded": run.prior_shift is not None,
            "signature": {"name": "serving_default", "input": "signal_mv",
                          "outputs": ["probabilities", "decisions"]}}


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


def write_examples(saved_dir: str, signal: np.ndarray) -> None:
    """``example_request.json`` (REST row format) and the exported model's answer to it,
    ``example_response.json``, in ``saved_dir``."""
    import tensorflow as tf

    answer = tf.saved_model.load(saved_dir).signatures["serving_default"](signal_mv=tf.constant(signal))
    rows = [{k: answer[k].numpy()[i].tolist() for k in ("probabilities", "decisions")} for i in range(len(signal))]
    with open(os.path.join(saved_dir, "example_request.json"), "w") as f:
        json.dump({"signature_name": "serving_default", "instances": signal.tolist()}, f)
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

        def serve(signal_mv):
            probs = probabilities(signal_mv)
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
        archive.add_endpoint("serving_default", serve,
                             input_signature=[tf.TensorSpec((None, None, n_leads), tf.float32, name="signal_mv")])
        archive.add_endpoint("metadata", describe, input_signature=[])
        saved = os.path.join(staging, "saved_model")
        archive.write_out(saved, verbose=False)
        write_examples(saved, example_signal(meta))
        with open(os.path.join(saved, "README.md"), "w") as f:
            f.write(export_readme(meta, name, version, out_dir))
        os.replace(saved, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
