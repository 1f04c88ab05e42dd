"""Sharded TFRecords of decoded records and their labels, for datasets that many workers stream.

``scripts/to_tfrecord.py`` writes a folder of ``part-00000-of-00008.tfrecord`` shards and
``tfrecords.json`` (dataset, task, sampling rate, lead names, shard names). Each example holds
one record resampled to the folder's rate (no filter: ``--signal-filter`` applies at training):

* ``record_id``: bytes;
* ``signal``: the ``(samples, leads)`` float32 mV array as raw bytes, with ``samples`` and ``leads``;
* ``label``: the task's label vector (float32);
* ``meta_<column>``: per-record meta (e.g. ``meta_fold`` of PTB-XL), as bytes.

Two ways to read a folder back:

* :class:`TFRecordReader`, a dataset reader, so ``train.py --data-dir FOLDER`` decodes it into the
  record store like any dataset folder (:func:`ecgtf.data.datasets.load_dataset`);
* :func:`stream_dataset`, a ``tf.data`` pipeline straight from the shards (random windows,
  shuffled), sharded by file across ``tf.distribute`` workers, for data too big for one machine.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

META_FILE = "tfrecords.json"
FORMAT_VERSION = 1


def is_tfrecord_dir(path: str | None) -> bool:
    """Whether ``path`` is a folder written by :func:`write_tfrecords`."""
    return bool(path) and os.path.isfile(os.path.join(path, META_FILE))


def _example(record_id: str, signal: np.ndarray, label: np.ndarray, meta: dict):
    import tensorflow as tf

    def b(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    signal = np.ascontiguousarray(signal, dtype=np.float32)
    features = {"record_id": b(str(record_id).encode()), "signal": b(signal.tobytes()),
                "samples": tf.train.Feature(int64_list=tf.train.Int64List(value=[signal.shape[0]])),
                "leads": tf.train.Feature(int64_list=tf.train.Int64List(value=[signal.shape[1]])),
                "label": tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(label, np.float32)))}
    features.update({f"meta_{k}": b(str(v).encode()) for k, v in meta.items()})
    return tf.train.Example(features=tf.train.Features(feature=features))


def write_tfrecords(data, out_dir: str, shards: int = 8) -> dict:
    """Writes every record of ``data`` (a :class:`ecgtf.data.datasets.LoadedData`) into ``shards``
    TFRecord files in ``out_dir`` (records dealt round-robin), then ``tfrecords.json``.

    Returns:
        The folder's description (what ``tfrecords.json`` holds).
    """
    import tensorflow as tf

    shards = max(1, min(int(shards), len(data)))
    os.makedirs(out_dir, exist_ok=True)
    names = [f"part-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]
    meta_columns = [c for c in data.meta.columns if c != "record_id"]
    writers = [tf.io.TFRecordWriter(os.path.join(out_dir, n)) for n in names]
    try:
        for i in range(len(data)):
            row = data.meta.iloc[i]
            example = _example(row["record_id"], data.signal(i), data.labels[i], {c: row[c] for c in meta_columns})
            writers[i % shards].write(example.SerializeToString())
    finally:
        for w in writers:
            w.close()
    task = data.task
    info = {"version": FORMAT_VERSION, "dataset": data.name, "sampling_rate": float(data.sampling_rate),
            "lead_names": list(data.lead_names), "signal_filter": "none", "n_records": len(data),
            "shards": names, "meta_columns": meta_columns, "label_size": int(data.labels.shape[1]),
            "task": {"name": task.name, "classes": list(task.classes), "kind": task.kind,
                     "main_score": task.main_score, "extras": task.extras}}
    with open(os.path.join(out_dir, META_FILE), "w") as f:
        json.dump(info, f, indent=2, default=str)
    return info


def read_info(folder: str) -> dict:
    """``tfrecords.json`` of a folder; one line saying why when it cannot be used."""
    path = os.path.join(folder, META_FILE)
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} cannot be read ({err})") from None
    if info.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} is of a newer format ({info.get('version')}) than this ecgtf reads")
    return info


def parse_fn(n_leads: int, label_size: int, meta_columns=()):
    """``serialized example -> dict`` of ``record_id``, ``signal`` ``(samples, leads)``, ``label``."""
    import tensorflow as tf

    spec = {"record_id": tf.io.FixedLenFeature([], tf.string), "signal": tf.io.FixedLenFeature([], tf.string),
            "samples": tf.io.FixedLenFeature([], tf.int64), "leads": tf.io.FixedLenFeature([], tf.int64),
            "label": tf.io.FixedLenFeature([label_size], tf.float32)}
    spec.update({f"meta_{c}": tf.io.FixedLenFeature([], tf.string, default_value="") for c in meta_columns})

    def parse(serialized):
        ex = tf.io.parse_single_example(serialized, spec)
        ex["signal"] = tf.reshape(tf.io.decode_raw(ex["signal"], tf.float32), [-1, n_leads])
        return ex

    return parse


def stream_dataset(folder: str, *, length: int, batch_size: int, training: bool = True, seed: int = 0,
                   shuffle_buffer: int = 1024):
    """``(x, y)`` batches straight from the shards: ``x`` ``(batch, length, leads)`` float32 mV.

    Training takes a random window of each record (zero-padded when shorter) and shuffles files
    and records; otherwise the centre window, in file order. Under a ``tf.distribute`` strategy,
    ``Model.fit`` shards this dataset by file across workers (``AutoShardPolicy.FILE``), so give
    at least as many shards as workers.
    """
    import tensorflow as tf

    info = read_info(folder)
    n_leads = len(info["lead_names"])
    files = [os.path.join(folder, n) for n in info["shards"]]
    ds = tf.data.Dataset.from_tensor_slices(files)
    if training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)))
    ds = ds.map(parse_fn(n_leads, info["label_size"]), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)

    def window(ex):
        x = ex["signal"]
        n = tf.shape(x)[0]
        if training:
            start = tf.random.uniform([], maxval=tf.maximum(n - length, 0) + 1, dtype=tf.int32)
        else:
            start = tf.maximum(n - length, 0) // 2
        x = x[start:start + length]
        short = length - tf.shape(x)[0]
        x = tf.pad(x, [[short // 2, short - short // 2], [0, 0]])
        x.set_shape([length, n_leads])
        return x, ex["label"]

    ds = ds.map(window, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.FILE
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)


class TFRecordReader:
    """A TFRecord folder as a dataset reader (see :class:`ecgtf.data.base.Reader`): the record
    store decodes it like a dataset folder. Reads every shard once, when indexed."""

    def __init__(self, data_dir: str):
        self.data_dir = str(data_dir)
        self.info = read_info(self.data_dir)
        self.name = self.info["dataset"]
        self.expected_leads = len(self.info["lead_names"])
        self.native_rate = float(self.info["sampling_rate"])
        self.default_task = self.info["task"]["name"]
        self._records: dict[str, dict] = {}

    def task(self, name: str):
        from ecgtf.data.tasks import Task

        t = self.info["task"]
        if name != t["name"]:
            raise ValueError(f"--data-dir {self.data_dir} holds TFRecords labelled for task {t['name']!r}, "
                             f"not {name!r}; write another folder with scripts/to_tfrecord.py --task {name}")
        return Task(t["name"], tuple(t["classes"]), t["kind"], t["main_score"], dict(t.get("extras") or {}))

    def index(self) -> tuple[pd.DataFrame, list]:
        import tensorflow as tf

        info = self.info
        parse = parse_fn(self.expected_leads, info["label_size"], info["meta_columns"])
        rows = []
        for shard in info["shards"]:
            path = os.path.join(self.data_dir, shard)
            for i, serialized in enumerate(tf.data.TFRecordDataset(path)):
                ex = parse(serialized)
                rid = ex["record_id"].numpy().decode()
                self._records[rid] = {"signal": ex["signal"].numpy(), "label": ex["label"].numpy()}
                meta = {c: _meta_value(ex[f"meta_{c}"].numpy().decode()) for c in info["meta_columns"]}
                rows.append({"record_id": rid, "path": f"{path}#{i}",
                             "codes": tuple(str(int(v)) for v in ex["label"].numpy()), **meta})
        frame = pd.DataFrame(rows, columns=["record_id", "path", "codes", *info["meta_columns"]])
        return frame.sort_values("record_id", kind="stable").reset_index(drop=True), []

    def read(self, row):
        from ecgtf.data.record import Record

        rec = self._records[row["record_id"]]
        meta = {c: row[c] for c in self.info["meta_columns"]}
        return Record(row["record_id"], rec["signal"], tuple(self.info["lead_names"]), self.native_rate,
                      codes=tuple(row["codes"]), meta=meta)

    def encode(self, task, codes):
        return np.asarray([int(c) for c in codes], dtype=np.int8)

    def notes(self) -> list[str]:
        return []


def _meta_value(text: str):
    try:
        return int(text)
    except ValueError:
        return text
