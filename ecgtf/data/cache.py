"""Decode once, reuse after: a memory-mapped store of a dataset's signals.

A store is a folder holding one flat float32 array of every record's samples
(``signals.f32``, shape ``(total_samples, leads)``, mV, at one sampling rate) with
``records.csv`` (record id, offset, length, codes, meta) and ``skipped.csv``. It is
written into a temporary folder and renamed when complete, so an interrupted build is
never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import pandas as pd

CACHE_VERSION = 1


def default_cache_root() -> str:
    """``$ECGTF_CACHE`` or ``~/.cache/ecgtf``."""
    return os.environ.get("ECGTF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ecgtf")


def cache_key(**parts) -> str:
    """A short stable hash of the values that determine a store's contents."""
    text = json.dumps({"version": CACHE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class RecordStore:
    """Read access to a finished store.

    Attributes:
        records: DataFrame with ``record_id``, ``offset``, ``length``, ``codes`` (tuple) and meta columns.
        skipped: DataFrame ``(record_id, reason)`` of records left out while building.
        warnings: DataFrame ``(record_id, reason)`` of records kept despite a problem.
        sampling_rate: Hz of every stored signal.
        lead_names: lead names of every stored signal.
    """

    def __init__(self, path: str):
        self.path = path
        with open(os.path.join(path, "store.json")) as f:
            info = json.load(f)
        self.sampling_rate = float(info["sampling_rate"])
        self.lead_names = tuple(info["lead_names"])
        self.info = info
        self.records = pd.read_csv(os.path.join(path, "records.csv"), dtype={"record_id": str},
                                   keep_default_na=False)
        self.records["codes"] = [tuple(json.loads(c)) for c in self.records["codes"]]
        self.skipped = pd.read_csv(os.path.join(path, "skipped.csv"), dtype=str, keep_default_na=False)
        self.warnings = pd.read_csv(os.path.join(path, "warnings.csv"), dtype=str, keep_default_na=False)
        total = int(info["total_samples"])
        n_leads = len(self.lead_names)
        self.signals = (np.memmap(os.path.join(path, "signals.f32"), dtype=np.float32, mode="r",
                                  shape=(total, n_leads)) if total else np.zeros((0, n_leads), np.float32))
        self._offsets = self.records["offset"].to_numpy(np.int64)
        self._lengths = self.records["length"].to_numpy(np.int64)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def lengths(self) -> np.ndarray:
        return self._lengths

    def signal(self, i: int) -> np.ndarray:
        """The ``i``-th record's signal ``(samples, leads)`` in mV (a read-only view)."""
        o = self._offsets[i]
        return self.signals[o:o + self._lengths[i]]

    def position(self, record_id: str) -> int:
        hits = np.flatnonzero(self.records["record_id"].to_numpy() == str(record_id))
        if not hits.size:
            raise KeyError(f"record {record_id!r} is not in the store {self.path}")
        return int(hits[0])


class StoreWriter:
    """Appends decoded records to a new store; :meth:`finish` makes it visible."""

    def __init__(self, path: str, sampling_rate: float, lead_names, meta_columns=()):
        self.path = path
        self.sampling_rate = float(sampling_rate)
        self.lead_names = tuple(lead_names)
        self.meta_columns = tuple(meta_columns)
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._tmp = tempfile.mkdtemp(prefix=".building-", dir=parent)
        self._file = open(os.path.join(self._tmp, "signals.f32"), "wb")
        self._rows: list[dict] = []
        self._skipped: list[tuple[str, str]] = []
        self._warnings: list[tuple[str, str]] = []
        self._offset = 0

    def add(self, record) -> None:
        sig = np.ascontiguousarray(record.signal_mv, dtype=np.float32)
        if sig.shape[1] != len(self.lead_names):
            raise ValueError(f"record {record.record_id}: {sig.shape[1]} leads, store has {len(self.lead_names)}")
        self._file.write(sig.tobytes())
        row = {"record_id": record.record_id, "offset": self._offset, "length": sig.shape[0],
               "codes": json.dumps(list(record.codes))}
        row.update({k: record.meta.get(k, "") for k in self.meta_columns})
        self._rows.append(row)
        self._offset += sig.shape[0]

    def skip(self, record_id: str, reason: str) -> None:
        self._skipped.append((record_id, reason))

    def warn(self, record_id: str, reason: str) -> None:
        """Notes a problem with a record that was kept (e.g. some flat leads)."""
        self._warnings.append((record_id, reason))

    def finish(self, **info) -> RecordStore:
        self._file.close()
        pd.DataFrame(self._rows, columns=["record_id", "offset", "length", "codes", *self.meta_columns]).to_csv(
            os.path.join(self._tmp, "records.csv"), index=False)
        pd.DataFrame(self._skipped, columns=["record_id", "reason"]).to_csv(
            os.path.join(self._tmp, "skipped.csv"), index=False)
        pd.DataFrame(self._warnings, columns=["record_id", "reason"]).to_csv(
            os.path.join(self._tmp, "warnings.csv"), index=False)
        with open(os.path.join(self._tmp, "store.json"), "w") as f:
            json.dump({"sampling_rate": self.sampling_rate, "lead_names": list(self.lead_names),
                       "total_samples": self._offset, "n_records": len(self._rows), **info}, f, indent=1,
                      default=str)
        if os.path.exists(self.path):
            shutil.rmtree(self.path)
        os.replace(self._tmp, self.path)
        return RecordStore(self.path)

    def abort(self) -> None:
        self._file.close()
        shutil.rmtree(self._tmp, ignore_errors=True)
