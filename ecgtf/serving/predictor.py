"""Scoring record files with a run folder or an exported SavedModel (``scripts/predict.py``).

:func:`load_predictor` opens either; :func:`score_files` reads, checks, resamples and scores
each file, and one bad file (wrong lead count, unreadable, NaNs) becomes one error row naming
the file and the reason while the others are still scored.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ecgtf.data.record import RecordError


@dataclasses.dataclass
class ModelInfo:
    """What a model takes and gives.

    Attributes:
        sampling_rate: Hz the model takes.
        n_leads: leads it takes.
        lead_names: their order (empty: unknown).
        class_names: one per output.
        task_kind: ``binary``, ``multiclass`` or ``multilabel``.
        thresholds: decision thresholds (None: 0.5, or argmax for multiclass).
        signal_filter: the whole-record filter to apply at decode (``none`` for a SavedModel).
    """

    sampling_rate: float
    n_leads: int
    lead_names: list
    class_names: list
    task_kind: str
    thresholds: list | None
    signal_filter: str = "none"
    input_kind: str = "raw"
    input_options: dict = dataclasses.field(default_factory=dict)
    window_samples: int = 0

    @property
    def takes_images(self) -> bool:
        return self.input_kind in ("image", "lead_images")

    def printout(self, signal: np.ndarray) -> np.ndarray:
        """The run's printout of a decoded record (uint8 RGB), as training rendered it."""
        from ecgtf.data.images import record_image
        from ecgtf.inputs.specs import get_spec

        options = get_spec(self.input_kind).options(**self.input_options)
        names = self.lead_names or [f"lead{i + 1}" for i in range(self.n_leads)]
        return record_image(signal, options, sampling_rate=self.sampling_rate, lead_names=names,
                            window_samples=self.window_samples)


class RunPredictor:
    """A run folder's ``model.keras`` with its windows, thresholds and decode filter."""

    def __init__(self, run_dir: str):
        from ecgtf.training.saved import load_run

        self.run = run = load_run(run_dir)
        spec = run.spec
        from ecgtf.serving.export import n_leads_of

        self.info = ModelInfo(spec.sampling_rate, n_leads_of(run), list(spec.lead_names or []),
                              list(spec.class_names), spec.task_kind, run.thresholds, spec.signal_filter,
                              spec.input_kind, dict(spec.input_options), spec.window_samples)

    def probabilities(self, signals: list[np.ndarray]) -> np.ndarray:
        """For decoded signals, or (printout runs) uint8 RGB images."""
        from ecgtf.training.predict import predict_signals

        spec = self.run.spec
        if self.info.takes_images:
            out = [self.run.model(np.asarray(x, np.float32)[None], training=False).numpy()[0] for x in signals]
            return np.asarray(out, np.float32).reshape(len(signals), len(self.info.class_names))
        return predict_signals(self.run.model, signals, length=spec.window_samples, hop=spec.eval_hop_samples,
                               batch_size=16)


class SavedModelPredictor:
    """An export of :func:`ecgtf.serving.export.export_run` through its ``serving_default`` signature."""

    def __init__(self, path: str):
        import tensorflow as tf

        from ecgtf.serving.export import METADATA_FILE

        with open(os.path.join(path, "assets", METADATA_FILE)) as f:
            meta = json.load(f)
        self.serve = tf.saved_model.load(path).signatures["serving_default"]
        self.info = ModelInfo(meta["sampling_rate"], meta["n_leads"], meta["lead_names"], meta["class_names"],
                              meta["task_kind"], meta["thresholds"], meta.get("signal_filter", "none"),
                              meta["input_kind"],
                              meta.get("input_options") or {}, meta["window_samples"])

    def probabilities(self, signals: list[np.ndarray]) -> np.ndarray:
        """For decoded signals, or (printout exports) uint8 RGB images, sent PNG-encoded."""
        import tensorflow as tf

        if self.info.takes_images:
            def png(x):
                x = np.asarray(x, np.uint8)
                return [tf.io.encode_png(lead).numpy() for lead in x] if x.ndim == 4 else tf.io.encode_png(x).numpy()

            out = [self.serve(image_bytes=tf.constant([png(x)]))["probabilities"].numpy()[0] for x in signals]
        else:
            out = [self.serve(signal_mv=tf.constant(s[None], tf.float32))["probabilities"].numpy()[0] for s in signals]
        return np.asarray(out, np.float32).reshape(len(signals), len(self.info.class_names))


class FeaturesPredictor:
    """A features run (``scripts/train_features.py``): ECG features, then its gradient-boosted trees."""

    def __init__(self, run_dir: str):
        from ecgtf.features.gbm import FeatureGBM
        from ecgtf.training.saved import read_thresholds

        self.model = m = FeatureGBM.load(run_dir)
        self.info = ModelInfo(m.sampling_rate, len(m.lead_names), list(m.lead_names), list(m.class_names),
                              m.task_kind, read_thresholds(run_dir).get("thresholds"), "none")

    def probabilities(self, signals: list[np.ndarray]) -> np.ndarray:
        return self.model.predict_signals(signals)


def check_averageable(infos: list[ModelInfo], where: str) -> None:
    """Raises ValueError (one line) unless predictors of these infos can be averaged record by record:
    the same classes, task kind and leads, and no printout model."""
    for name, values in (("classes", [i.class_names for i in infos]),
                         ("leads", [[n.lower() for n in i.lead_names] for i in infos]),
                         ("task kind", [i.task_kind for i in infos])):
        if any(v != values[0] for v in values[1:]):
            raise ValueError(f"the members of {where} differ in their {name}: " + "; ".join(str(v) for v in values))
    if any(i.takes_images for i in infos):
        raise ValueError(f"{where}: a printout member cannot be averaged with signal members here")


class MeanPredictor:
    """An ensemble folder whose members are not one Keras model (a features run among networks):
    each member scores the record decoded its own way (rate, filter), and the probabilities are averaged.

    Raises:
        ValueError: the members predict different classes, take other leads, or take printouts (one line).
    """

    def __init__(self, run_dir: str):
        from ecgtf.training.ensemble_run import member_dirs
        from ecgtf.training.saved import read_thresholds

        self.members = [load_predictor(d) for d in member_dirs(run_dir)]
        infos = [m.info for m in self.members]
        check_averageable(infos, run_dir)
        thresholds = read_thresholds(run_dir).get("thresholds")
        # The records arrive unfiltered at the first member's rate; each member decodes them its way.
        self.info = dataclasses.replace(infos[0], signal_filter="none", thresholds=thresholds)

    def probabilities(self, signals: list[np.ndarray]) -> np.ndarray:
        from ecgtf.data.transforms import decode_signal

        probs = []
        for member in self.members:
            m = member.info
            mine = [decode_signal(s, self.info.sampling_rate, m.sampling_rate, m.signal_filter) for s in signals]
            probs.append(np.asarray(member.probabilities(mine), np.float32))
        return np.mean(probs, axis=0)


def saved_model_dir(path: str) -> str | None:
    """``path`` itself when it holds ``saved_model.pb``, its highest numbered version folder
    when it is a TF Serving model folder, else None."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = sorted((int(d) for d in os.listdir(path) if d.isdigit()
                       and os.path.isfile(os.path.join(path, d, "saved_model.pb"))), reverse=True)
    return os.path.join(path, str(versions[0])) if versions else None


def load_predictor(path: str):
    """A :class:`RunPredictor` for a run folder, a :class:`FeaturesPredictor` for a features run, a
    :class:`MeanPredictor` for an ensemble folder of both kinds, a :class:`SavedModelPredictor` for an export.

    Raises:
        FileNotFoundError: ``path`` is neither (one line).
    """
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--model {path!r} does not exist")
    from ecgtf.features.gbm import is_features_run
    from ecgtf.training.ensemble_run import is_ensemble

    if os.path.isfile(os.path.join(path, "config.yaml")):
        return RunPredictor(path)
    if is_features_run(path):
        return FeaturesPredictor(path)
    if is_ensemble(path):
        return MeanPredictor(path)
    saved = saved_model_dir(path)
    if saved is not None:
        return SavedModelPredictor(saved)
    raise FileNotFoundError(f"--model {path!r} is neither a run folder (config.yaml, model.keras) nor an export "
                            "(saved_model.pb, or version folders holding one)")


def decisions(info: ModelInfo, probs: np.ndarray) -> np.ndarray:
    """0/1 decisions as :func:`ecgtf.evaluation.thresholds.apply_thresholds`."""
    probs = np.asarray(probs, dtype=float)
    if info.task_kind == "multiclass":
        return np.eye(probs.shape[-1], dtype=int)[probs.argmax(axis=-1)]
    thr = 0.5 if info.thresholds is None else np.asarray(info.thresholds, dtype=float)
    return (probs >= thr).astype(int)


def prepare_record(record, info: ModelInfo) -> tuple[np.ndarray, list[str]]:
    """``(signal, notes)``: the record checked, its leads in the model's order, resampled to the
    model's rate and filtered as the run was.

    Raises:
        RecordError: wrong lead count, NaN samples, every lead flat.
    """
    from ecgtf.data.record import validate_record
    from ecgtf.data.transforms import decode_signal

    notes = []
    validate_record(record, expected_leads=info.n_leads)
    signal = record.signal_mv
    names = [n.lower() for n in record.lead_names]
    wanted = [n.lower() for n in info.lead_names]
    if wanted and sorted(names) == sorted(wanted) and names != wanted:
        signal = signal[:, [names.index(n) for n in wanted]]
        notes.append(f"leads reordered to {', '.join(info.lead_names)}")
    if float(record.sampling_rate) != float(info.sampling_rate):
        notes.append(f"resampled from {record.sampling_rate:g} Hz to {info.sampling_rate:g} Hz")
    return decode_signal(signal, record.sampling_rate, info.sampling_rate, info.signal_filter), notes


#: How ``predict.py`` gives an image to a model: ``digitize`` reads the page (any printout) into a
#: signal, which a signal model scores and an image model sees redrawn in its run's look;
#: ``as-is`` hands an image model the file's pixels (the run's own renders).
IMAGE_INPUTS = ("digitize", "as-is")


def score_files(predictor, paths, *, npy_rate: float | None = None, say=print,
                image_input: str = "digitize") -> tuple[list[dict], list[dict]]:
    """``(rows, failures)``: one row per scored file, one failure per file that could not be.

    Args:
        predictor: from :func:`load_predictor`.
        paths: files and folders (:func:`ecgtf.serving.files.find_inputs`).
        npy_rate: Hz of ``.npy`` inputs; the model's rate when None.
        say: where the per-file notes and errors go (one line each).
        image_input: one of :data:`IMAGE_INPUTS`.

    Returns:
        Rows ``{"record_id", "file", "probabilities": {class: p}, "decisions": {class: 0/1},
        "notes": [...], "input_path": how the file reached the model, "page": the page reader's
        findings (printouts)}`` and failures ``{"record_id", "file", "error"}``.
    """
    from ecgtf.serving.files import find_inputs, is_image, read_image, read_input, record_id

    if image_input not in IMAGE_INPUTS:
        raise ValueError(f"image_input must be one of {', '.join(IMAGE_INPUTS)}, got {image_input!r}")

    info = predictor.info
    ready, failures = [], []
    for path in find_inputs(paths):
        page = None
        try:
            if is_image(path) and image_input == "as-is":
                ready.append((record_id(path), path, read_image(path, info), [], {"input_path": "image as given"}))
                continue
            if is_image(path):
                from ecgtf.paper.inputs import printout_record

                record, notes, page = printout_record(path, record_id(path), info.lead_names)
                signal, more = prepare_record(record, info)
                notes += more
                path_used = "printout -> digitised -> " + ("redrawn as the run's printout" if info.takes_images
                                                          else "signal model")
            else:
                record = read_input(path, npy_rate or info.sampling_rate, info.lead_names or None)
                signal, notes = prepare_record(record, info)
                path_used = "signal"
            if info.takes_images:
                signal = info.printout(signal)
                if page is None:
                    notes.append("rendered as the run's printout")
                    path_used = "signal -> rendered as the run's printout"
        except RecordError as err:
            failures.append({"record_id": record_id(path), "file": path, "error": err.reason})
            say(f"error: {path}: {err.reason}")
            continue
        for note in notes:
            say(f"{path}: {note}")
        extra = {"input_path": path_used}
        if page is not None:
            extra["page"] = page
        ready.append((record.record_id, path, signal, notes, extra))
    rows = []
    if ready:
        probs = predictor.probabilities([signal for _, _, signal, _, _ in ready])
        decided = decisions(info, probs)
        for (rid, path, _, notes, extra), p, d in zip(ready, probs, decided):
            rows.append({"record_id": rid, "file": path,
                         "probabilities": {c: round(float(v), 6) for c, v in zip(info.class_names, p)},
                         "decisions": {c: int(v) for c, v in zip(info.class_names, d)}, "notes": notes, **extra})
    return rows, failures
