"""Datasets by name: reader choice, decode-once caching, labels and splits.

``load_dataset`` is the one entry point the scripts use::

    data = load_dataset("ptbxl", "../shared/data/ptbxl", task="superdiagnostic", sampling_rate=100)
    data.labels        # (N, C) int8, one row per usable record
    data.signal(i)     # (samples, leads) float32 mV of the i-th usable record
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ecgtf.data import transforms
from ecgtf.data.base import Reader
from ecgtf.data.cache import RecordStore, StoreWriter, cache_key, default_cache_root
from ecgtf.data.cinc2017 import CinC2017Reader
from ecgtf.data.cinc2020 import CinC2020Reader
from ecgtf.data.ptbxl import PTBXLReader
from ecgtf.data.record import RecordError, SkipLog, flat_leads, validate_record
from ecgtf.data.tasks import Task

READERS = {"ptbxl": PTBXLReader, "cinc2017": CinC2017Reader, "cinc2020": CinC2020Reader}
DATASETS = ("synthetic", *READERS)
# The synthetic data is written in the layout of the dataset whose task is asked for.
SYNTHETIC_LAYOUT = {"af4": "cinc2017", "scored27": "cinc2020"}


def synthetic_layout(task: str | None) -> str:
    """The on-disk layout the synthetic data takes for ``task`` (``af4`` -> cinc2017, ...)."""
    return SYNTHETIC_LAYOUT.get(task or "", "ptbxl") if task else "cinc2017"


def make_reader(dataset: str, data_dir: str, sampling_rate: float | None = None,
                scoring_dir: str | None = None) -> Reader:
    """The reader for ``dataset`` over ``data_dir``; unknown names list the valid ones."""
    if dataset not in READERS:
        raise KeyError(f"unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}")
    if dataset == "ptbxl":
        # PTB-XL ships 100 and 500 Hz files: read the closest one at or above the target.
        files_rate = 100 if sampling_rate is None or float(sampling_rate) <= 100 else 500
        return PTBXLReader(data_dir, sampling_rate=files_rate)
    if dataset == "cinc2020":
        return CinC2020Reader(data_dir, scoring_dir=scoring_dir)
    return READERS[dataset](data_dir)


def task_for(dataset: str, task: str, data_dir: str | None = None, scoring_dir: str | None = None) -> Task:
    """The :class:`Task` called ``task`` of ``dataset``, without loading any signal.

    Tasks fixed by the layout (PTB-XL, CinC 2017) come from the reader class; those built
    from the data folder's own tables (CinC 2020 ``scored27``) read ``data_dir``.
    """
    layout = synthetic_layout(task) if dataset == "synthetic" else dataset
    if layout not in READERS:
        raise KeyError(f"unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}")
    if task in READERS[layout].tasks:
        return READERS[layout].tasks[task]
    if not data_dir or dataset == "synthetic":
        raise ValueError(f"task {task!r} of {dataset} is built from the data folder's tables; give its data_dir")
    return make_reader(dataset, data_dir, scoring_dir=scoring_dir).task(task)


@dataclasses.dataclass
class LoadedData:
    """A dataset decoded to one sampling rate, with the labels of one task.

    Attributes:
        name: dataset name.
        task: the :class:`Task`.
        store: the :class:`RecordStore` holding every decoded record.
        positions: store positions of the records that belong to the task, ``(N,)``.
        labels: ``(N, task.num_outputs)`` int8.
        meta: per-record DataFrame (``record_id`` and meta columns such as ``fold``), ``N`` rows.
        skipped: DataFrame ``(dataset, record_id, reason)`` of records left out.
        load_seconds: time this load took.
        from_cache: True when the signals came from an existing store.
    """

    name: str
    task: Task
    store: RecordStore
    positions: np.ndarray
    labels: np.ndarray
    meta: pd.DataFrame
    skipped: pd.DataFrame
    load_seconds: float = 0.0
    from_cache: bool = False
    data_dir: str = ""

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def sampling_rate(self) -> float:
        return self.store.sampling_rate

    @property
    def lead_names(self) -> tuple[str, ...]:
        return self.store.lead_names

    @property
    def lengths(self) -> np.ndarray:
        return self.store.lengths[self.positions]

    def signal(self, i: int) -> np.ndarray:
        return self.store.signal(int(self.positions[i]))

    @property
    def warnings(self) -> pd.DataFrame:
        """Records kept despite a problem (e.g. some flat leads), with the reason."""
        return self.store.warnings.assign(dataset=self.name)[["dataset", "record_id", "reason"]]

    def class_counts(self) -> dict[str, int]:
        counts = self.labels.sum(axis=0)
        if self.task.kind == "binary":
            return {self.task.classes[0]: int(len(self) - counts[0]), self.task.classes[1]: int(counts[0])}
        return {c: int(n) for c, n in zip(self.task.classes, counts)}


def load_dataset(dataset: str, data_dir: str | None, task: str | None = None, sampling_rate: float | None = None,
                 *, strict: bool = False, cache_root: str | None = None, signal_filter: str = "none",
                 scoring_dir: str | None = None, synthetic_n: int | None = None, seed: int = 0,
                 progress: bool = True, refresh: bool = False, say=None) -> LoadedData:
    """Reads (or takes from the cache) a dataset and labels it for ``task``.

    Args:
        dataset: ``synthetic``, ``ptbxl``, ``cinc2017`` or ``cinc2020``.
        data_dir: the dataset folder (ignored for ``synthetic``, which is generated
            into the cache on first use), or a folder of ``scripts/to_tfrecord.py`` shards
            (:mod:`ecgtf.data.tfrecord`; ``dataset`` is then the folder's own).
        task: task name; the dataset's default when None.
        sampling_rate: target rate in Hz; records are resampled (polyphase) to it.
            Defaults to the dataset's native rate.
        strict: raise on the first bad record instead of skipping it.
        cache_root: where stores live (default ``$ECGTF_CACHE`` or ``~/.cache/ecgtf``).
        signal_filter: ``none``, ``bandpass`` (0.5-40 Hz) or ``baseline``, applied once at decode.
        scoring_dir: CinC 2020 scoring tables folder (found automatically when None).
        synthetic_n: number of synthetic records (the generator's default when None).
        seed: synthetic generation seed.
        progress: show a progress bar while decoding.
        refresh: rebuild the store even when one exists.
        say: called with each ``note: ...`` of the reader (:meth:`Reader.notes`: what it cannot
            check in this folder), before any record is read; None keeps them quiet.
    """
    start = time.perf_counter()
    if signal_filter not in transforms.FILTERS:
        raise ValueError(f"signal_filter must be one of {', '.join(transforms.FILTERS)}, got {signal_filter!r}")
    from ecgtf.data.tfrecord import TFRecordReader, is_tfrecord_dir

    tf_reader = TFRecordReader(data_dir) if is_tfrecord_dir(data_dir) else None  # scripts/to_tfrecord.py shards
    if tf_reader is not None:
        dataset = tf_reader.name
    if dataset == "synthetic":
        from ecgtf.data.synthetic_layouts import ensure_synthetic

        layout = synthetic_layout(task)
        data_dir = ensure_synthetic(layout, root=os.path.join(cache_root or default_cache_root(), "synthetic"),
                                    n=synthetic_n, seed=seed)
        if layout == "cinc2020":
            scoring_dir = scoring_dir or None
        dataset = layout
    if not data_dir:
        raise ValueError(f"--data-dir is required for dataset {dataset!r}")
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"--data-dir {data_dir!r} does not exist; expected the {dataset} folder there.")
    reader = tf_reader or make_reader(dataset, data_dir, sampling_rate, scoring_dir)
    for note in reader.notes() if say else ():
        say(f"note: {note}")
    task_obj = reader.task(task or reader.default_task)
    rate = float(sampling_rate or reader.native_rate)
    store, from_cache = build_store(reader, rate, cache_root=cache_root, strict=strict,
                                    signal_filter=signal_filter, progress=progress, refresh=refresh)
    positions, labels = [], []
    for pos, codes in enumerate(store.records["codes"]):
        y = reader.encode(task_obj, codes)
        if y is not None:
            positions.append(pos)
            labels.append(y)
    positions = np.asarray(positions, dtype=np.int64)
    meta = store.records.iloc[positions].drop(columns=["offset", "length", "codes"]).reset_index(drop=True)
    skipped = store.skipped.assign(dataset=dataset)[["dataset", "record_id", "reason"]]
    return LoadedData(
        name=dataset, task=task_obj, store=store, positions=positions,
        labels=np.asarray(labels, dtype=np.int8).reshape(len(positions), task_obj.num_outputs),
        meta=meta, skipped=skipped, load_seconds=time.perf_counter() - start, from_cache=from_cache,
        data_dir=os.path.abspath(data_dir),
    )


def build_store(reader: Reader, sampling_rate: float, *, cache_root: str | None = None, strict: bool = False,
                signal_filter: str = "none", progress: bool = True, refresh: bool = False
                ) -> tuple[RecordStore, bool]:
    """Decodes every record of ``reader`` once into a :class:`RecordStore` (or reuses one).

    Bad records (header, signal file, NaN, flat lead, lead count, label code) are
    skipped and listed with their reasons; with ``strict`` the first one raises.

    Returns:
        ``(store, from_cache)``.
    """
    frame, problems = reader.index()
    key = cache_key(store_format=2, dataset=reader.name, data_dir=os.path.abspath(reader.data_dir), rate=sampling_rate,
                    filter=signal_filter, records=list(frame["record_id"]), sources=source_signature(frame),
                    problems=problems, code_warnings=sorted(getattr(reader, "code_warnings", {}).items()))
    path = os.path.join(cache_root or default_cache_root(), "stores", f"{reader.name}-{int(sampling_rate)}hz-{key}")
    if os.path.isfile(os.path.join(path, "store.json")) and not refresh:
        store = RecordStore(path)
        if strict and len(store.skipped):
            raise RecordError(store.skipped.iloc[0]["record_id"], store.skipped.iloc[0]["reason"])
        if strict and len(store.warnings):  # stored as "... (record kept: ...)", which --strict does not do
            first = store.warnings.iloc[0]
            raise RecordError(first["record_id"], _strict_reason(first["reason"]))
        return store, True
    log = SkipLog(strict=strict)
    for rid, reason in problems:
        log.add(reader.name, rid, reason)
    meta_columns = [c for c in frame.columns if c not in ("record_id", "path", "codes")]
    writer = StoreWriter(path, sampling_rate, _lead_names(reader, frame), meta_columns)
    try:
        for rid, reason in problems:
            writer.skip(rid, reason)
        rows = frame.to_dict("records")
        for row in tqdm(rows, desc=f"decoding {reader.name}", unit="rec", disable=not progress, mininterval=1.0):
            try:
                rec = validate_record(reader.read(row), reader.expected_leads)
            except RecordError as err:
                log.add(reader.name, err.record_id, err.reason)
                writer.skip(err.record_id, err.reason)
                continue
            note = getattr(reader, "code_warnings", {}).get(rec.record_id)
            if note:
                if strict:
                    raise RecordError(rec.record_id, _strict_reason(note))
                writer.warn(rec.record_id, note)
            flat = flat_leads(rec)
            if flat:
                if strict:
                    raise RecordError(rec.record_id, _strict_reason(f"flat lead(s) {', '.join(flat)}"))
                writer.warn(rec.record_id, f"flat lead(s) {', '.join(flat)}{KEPT_NOTE}")
            rec.signal_mv = transforms.decode_signal(rec.signal_mv, rec.sampling_rate, sampling_rate, signal_filter)
            writer.add(rec)
    except BaseException:
        writer.abort()
        raise
    return writer.finish(dataset=reader.name, data_dir=os.path.abspath(reader.data_dir), filter=signal_filter), False


KEPT_NOTE = " (record kept: the other leads carry signal)"


def _strict_reason(reason: str) -> str:
    """A kept record's warning as the reason ``--strict`` stops on it."""
    return f"{reason.replace(KEPT_NOTE, '')} (--strict stops on it)"


def _lead_names(reader: Reader, frame: pd.DataFrame) -> tuple[str, ...]:
    """Lead names from the first record that decodes (all records share them)."""
    for row in frame.head(20).to_dict("records"):
        try:
            names = reader.read(row).lead_names
        except RecordError:
            continue
        if len(names) == reader.expected_leads:
            return tuple(names)
    return tuple(f"lead{i + 1}" for i in range(reader.expected_leads))


#: Signal files that may sit beside a record's header.
SIGNAL_SUFFIXES = (".hea", ".dat", ".mat")


def source_signature(frame: pd.DataFrame) -> str:
    """A hash of every record's label codes and the size, modification time and status-change time
    (ns) of each of its files (header and signal), so editing any of them rebuilds the cache.

    The status-change time (``st_ctime_ns``) catches a same-size edit whose modification time was
    set back (``touch -d``, ``cp --preserve``, ``os.utime``): no program can set it. It also moves
    on ``chmod`` or ``chown``, which then rebuild the cache once.
    ``os.stat`` of every file, no content read (a content hash would read every signal again):
    0.13 s for ``../shared/data/cinc2017``'s 6,822 records on 2 shared cores
    (``python benchmarks/bench_data.py --datasets cinc2017`` prints it).
    """
    digest = hashlib.sha1()
    codes = frame["codes"] if "codes" in frame else [None] * len(frame)
    for path, code in zip(frame["path"], codes):
        digest.update(f"{path}|{code}".encode())
        # A TFRecord row's path is "SHARD#i": the shard file is its signal file.
        files = [(s, path + s) for s in SIGNAL_SUFFIXES] + ([("#", path.rsplit("#", 1)[0])] if "#" in path else [])
        for suffix, file in files:
            try:
                st = os.stat(file)
            except OSError:
                continue
            digest.update(f"{suffix}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}".encode())
    return digest.hexdigest()
