"""The record type every reader yields, and how bad records are reported."""

from __future__ import annotations

import csv
import dataclasses
import os
from typing import Any

import numpy as np


@dataclasses.dataclass
class Record:
    """One ECG recording.

    Attributes:
        record_id: the dataset's own id (e.g. ``"A00001"``, ``"21837"``).
        signal_mv: float32 array of shape ``(samples, leads)``, in millivolts.
        lead_names: lead names, one per column of ``signal_mv``.
        sampling_rate: samples per second (Hz).
        codes: the dataset's raw label codes (SCP codes, SNOMED codes, N/A/O/~).
        meta: extra per-record fields (e.g. ``{"fold": 3}`` for PTB-XL).
    """

    record_id: str
    signal_mv: np.ndarray
    lead_names: tuple[str, ...]
    sampling_rate: float
    codes: tuple[str, ...] = ()
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.signal_mv.shape[0] / float(self.sampling_rate)


class RecordError(Exception):
    """A record that cannot be used; carries the record id and the reason."""

    def __init__(self, record_id: str, reason: str):
        super().__init__(f"record {record_id}: {reason}")
        self.record_id = record_id
        self.reason = reason


class DataDirError(FileNotFoundError):
    """The --data-dir does not hold the layout a reader expects."""


def validate_record(record: Record, expected_leads: int | None = None) -> Record:
    """Checks a decoded record; raises RecordError naming what is wrong.

    Checks: non-empty 2-D signal, the expected lead count, no NaN samples, not every lead flat.
    """
    sig = record.signal_mv
    if sig.ndim != 2 or sig.shape[0] == 0:
        raise RecordError(record.record_id, f"empty or malformed signal of shape {sig.shape}")
    if expected_leads is not None and sig.shape[1] != expected_leads:
        raise RecordError(
            record.record_id, f"wrong lead count: {sig.shape[1]} leads, expected {expected_leads}"
        )
    if len(record.lead_names) != sig.shape[1]:
        raise RecordError(
            record.record_id, f"{len(record.lead_names)} lead names for {sig.shape[1]} signal columns"
        )
    nan_cols = np.flatnonzero(~np.isfinite(sig).all(axis=0))
    if nan_cols.size:
        names = ", ".join(record.lead_names[i] for i in nan_cols)
        raise RecordError(record.record_id, f"NaN samples in lead(s) {names}")
    flat = flat_leads(record)
    if len(flat) == sig.shape[1]:
        raise RecordError(record.record_id, f"flat lead(s) {', '.join(flat)}")
    return record


def flat_leads(record: Record) -> list[str]:
    """Names of the leads whose samples are all equal (no signal).

    :func:`validate_record` rejects a record only when every lead is flat; a 12-lead
    record with some flat leads (as some CinC 2020 records have) is kept, and the
    loader reports the flat leads as a warning (or an error under ``--strict``).
    """
    sig = record.signal_mv
    return [record.lead_names[i] for i in np.flatnonzero(np.ptp(sig, axis=0) == 0)]


class SkipLog:
    """Collects records skipped with their reasons; ``strict=True`` raises instead."""

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.rows: list[tuple[str, str, str]] = []

    def add(self, dataset: str, record_id: str, reason: str) -> None:
        if self.strict:
            raise RecordError(record_id, reason)
        self.rows.append((dataset, record_id, reason))

    def extend(self, rows) -> None:
        for row in rows:
            self.add(*row)

    def __len__(self) -> int:
        return len(self.rows)

    def summary(self) -> str:
        if not self.rows:
            return "0 records skipped"
        by_reason: dict[str, int] = {}
        for _, _, reason in self.rows:
            key = reason.split(":")[0]
            by_reason[key] = by_reason.get(key, 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(by_reason.items(), key=lambda kv: -kv[1]))
        return f"{len(self.rows)} records skipped ({parts})"

    def write_csv(self, path: str | os.PathLike) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["dataset", "record_id", "reason"])
            writer.writerows(self.rows)
