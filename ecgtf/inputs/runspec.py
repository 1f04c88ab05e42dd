"""``RunSpec``: everything that turns a file into a model input, saved as ``run_spec.json``.

A run's input is made in two places, both recorded here:

1. at decode, once per record: resampling to ``sampling_rate`` Hz and the
   ``signal_filter`` (:func:`ecgtf.data.transforms.decode_signal`);
2. in the model's ``prepare`` block (saved inside ``model.keras``): centre crop or pad to
   ``window_samples``, per-lead standardisation, the input kind's step (:mod:`ecgtf.inputs`).

Evaluation averages the probabilities of windows ``eval_hop_samples`` apart over the valid part
of a record (:mod:`ecgtf.data.crops`), or takes the centre window when that is None.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ecgtf.atomic import replacing
from ecgtf.inputs.specs import build_prepare, get_spec

SPEC_FILE = "run_spec.json"
SPEC_VERSION = 1


def window_samples(duration_s: float | None, sampling_rate: float, lengths=None) -> int:
    """A run's window in samples: ``duration_s`` at ``sampling_rate`` Hz, else
    :func:`default_window` of the records' ``lengths``.

    The one window-length rule of ecgtf (training, evaluation, Grad-CAM and export).
    """
    if duration_s:
        return int(round(float(duration_s) * float(sampling_rate)))
    return default_window(lengths, sampling_rate)[0]


#: The default window takes this percentile of the record lengths ...
WINDOW_PERCENTILE = 95
#: ... and at most this many times the median length.
WINDOW_MEDIAN_CAP = 2


def default_window(lengths, sampling_rate: float) -> tuple[int, str]:
    """The window when no ``duration_s`` is given, and one line saying how it was chosen.

    The 95th-percentile record length (the lower of the two neighbouring lengths, so the single
    longest record never sets it), at most twice the median: one long record (a 60-minute
    Holter among 30 s records) cannot make every window 60 minutes long. Longer records are
    cropped: random windows in training, the centre window (or windows ``--eval-hop-s`` apart,
    averaged) at evaluation.

    Args:
        lengths: ``(N,)`` record lengths in samples.
        sampling_rate: Hz of those samples (for the message).

    Returns:
        ``(samples, message)``.
    """
    if lengths is None or len(lengths) == 0:
        raise ValueError("no duration_s and no records to take the window length from")
    lengths = np.asarray(lengths, dtype=np.int64)
    median = int(np.median(lengths))
    typical = int(np.percentile(lengths, WINDOW_PERCENTILE, method="lower"))
    samples = max(1, min(typical, WINDOW_MEDIAN_CAP * median))
    longer = int(np.sum(lengths > samples))

    def secs(n):
        return f"{n / float(sampling_rate):.4g} s"

    rule = (f"the {WINDOW_PERCENTILE}th-percentile record length" if samples == typical
            else f"{WINDOW_MEDIAN_CAP} x the median record length")
    message = (f"window {samples} samples ({secs(samples)}): {rule} of {len(lengths)} records "
               f"(median {secs(median)}, longest {secs(int(lengths.max()))}); ")
    if longer:
        message += (f"{longer} longer record{'s are' if longer > 1 else ' is'} cropped (random windows in "
                    "training, the centre window or --eval-hop-s averaging at evaluation); ")
    return samples, message + "--duration-s sets it"


@dataclasses.dataclass
class RunSpec:
    """What a run's model expects and how a record becomes its input.

    Attributes:
        model: registry name.
        dataset, task: what it was trained on.
        task_kind: ``binary``, ``multiclass`` or ``multilabel``.
        class_names: one name per model output.
        sampling_rate: Hz of the decoded signal.
        signal_filter: whole-record filter at decode (``none``, ``bandpass``, ``baseline``).
        lead_names: lead names in the order the model takes them (None: unknown, old runs).
        units: signal units (always ``mV``).
        window_samples: model window in samples.
        eval_hop_samples: hop of crop-averaged evaluation in samples; None takes the centre window.
        input_kind: key of :data:`ecgtf.inputs.specs.INPUT_SPECS`.
        input_options: the kind's options, every key resolved.
        standardize: per-lead standardisation of each window.
        graph_op: whether the prepare block is made of graph ops only (SavedModel export).
        version: format version of this file.
    """

    model: str
    dataset: str
    task: str
    task_kind: str
    class_names: list
    sampling_rate: float
    signal_filter: str
    lead_names: list | None
    window_samples: int
    eval_hop_samples: int | None
    input_kind: str
    input_options: dict
    standardize: bool
    units: str = "mV"
    graph_op: bool = True
    version: int = SPEC_VERSION

    @property
    def window_s(self) -> float:
        return self.window_samples / self.sampling_rate

    @property
    def printout(self) -> bool:
        """Whether the run's model takes rendered printouts (``image``, ``lead_images``), made from
        a decoded record by :func:`ecgtf.data.images.spec_image`, instead of mV windows."""
        return get_spec(self.input_kind).record_input is not None

    @property
    def n_leads(self) -> int | None:
        return len(self.lead_names) if self.lead_names else None

    def options(self):
        """The input options as their typed dataclass."""
        return get_spec(self.input_kind).options(**self.input_options)

    def build_prepare(self, n_leads: int | None = None):
        """A fresh ``prepare`` block for this spec (see :func:`ecgtf.inputs.specs.build_prepare`)."""
        leads = n_leads or self.n_leads
        if not leads:
            raise ValueError("the spec has no lead names: give n_leads")
        return build_prepare(self.input_kind, self.options(), sampling_rate=self.sampling_rate,
                             window_samples=self.window_samples, n_leads=leads, standardize=self.standardize)

    def save(self, path: str) -> None:
        with replacing(path) as tmp, open(tmp, "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=2)

    @classmethod
    def load(cls, path: str) -> "RunSpec":
        """Reads ``run_spec.json``; a file of another format raises one line saying why."""
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path} is not valid JSON ({err})") from None
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        missing = sorted(f.name for f in dataclasses.fields(cls)
                         if f.default is dataclasses.MISSING and f.name not in data)
        if unknown or missing or data.get("version", SPEC_VERSION) > SPEC_VERSION:
            raise ValueError(f"{path}: not a run spec this ecgtf can read (version {data.get('version')}; "
                             f"unknown keys {unknown or 'none'}, missing keys {missing or 'none'})")
        return cls(**data)


def make_spec(cfg, entry, task, sampling_rate: float, lead_names, window: int) -> RunSpec:
    """The :class:`RunSpec` of a run configured by ``cfg`` (a resolved :class:`TrainConfig`) for
    the model registry ``entry``."""
    from ecgtf.inputs.specs import split_options

    input_opts, _ = split_options(entry, cfg.model_options)
    prepare_graph = get_spec(entry.input_kind).graph_op
    hop = int(round(cfg.eval_hop_s * sampling_rate)) if cfg.eval_hop_s else None
    return RunSpec(model=cfg.model, dataset=cfg.dataset, task=task.name, task_kind=task.kind,
                   class_names=list(task.output_names), sampling_rate=float(sampling_rate),
                   signal_filter=cfg.signal_filter, lead_names=list(lead_names) if lead_names else None,
                   window_samples=int(window), eval_hop_samples=hop, input_kind=entry.input_kind,
                   input_options=_jsonable(dataclasses.asdict(input_opts)), standardize=bool(cfg.standardize),
                   graph_op=prepare_graph)


def _jsonable(options: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def load_run_data(cfg, say=None):
    """The dataset of a run config, decoded at its rate with its filter (``LoadedData``); ``say``
    hears the reader's notes (see :func:`ecgtf.data.datasets.load_dataset`)."""
    from ecgtf.data.datasets import load_dataset

    return load_dataset(cfg.dataset, cfg.data_dir, task=cfg.task, sampling_rate=cfg.sampling_rate,
                        strict=cfg.strict, cache_root=cfg.cache_dir, signal_filter=cfg.signal_filter,
                        scoring_dir=cfg.scoring_dir, synthetic_n=cfg.synthetic_n, seed=cfg.seed, say=say)
