"""What every dataset reader provides.

A reader knows one on-disk layout. It lists the records (``index``), decodes one
(``read``), describes its tasks (``task``) and turns a record's raw codes into a
label vector (``encode``). Everything else (validation, resampling, caching,
splitting) is shared and lives in :mod:`ecgtf.data.datasets`.
"""

from __future__ import annotations

import abc

import numpy as np
import pandas as pd

from ecgtf.data.record import DataDirError, Record
from ecgtf.data.tasks import Task


class Reader(abc.ABC):
    """Base class of the dataset readers.

    Attributes:
        name: dataset name used on the command line (``ptbxl``, ``cinc2017``, ``cinc2020``).
        expected_leads: lead count every record must have.
        native_rate: the dataset's usual sampling rate in Hz (default training rate).
        default_task: the task used when none is given.
    """

    name: str = ""
    expected_leads: int = 12
    native_rate: float = 500.0
    default_task: str = ""

    def __init__(self, data_dir: str):
        self.data_dir = str(data_dir)
        self.check_layout()

    # -- layout -------------------------------------------------------------------------
    @abc.abstractmethod
    def check_layout(self) -> None:
        """Raises DataDirError with one sentence naming what was expected in ``data_dir``."""

    def _missing(self, what: str) -> DataDirError:
        return DataDirError(
            f"--data-dir {self.data_dir!r} does not look like {self.name}: expected {what} there."
        )

    # -- records ------------------------------------------------------------------------
    @abc.abstractmethod
    def index(self) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
        """Lists the records.

        Returns:
            ``(frame, problems)``: a DataFrame with columns ``record_id``, ``path`` (record
            path without extension), ``codes`` (tuple of raw label codes) and any meta
            columns (e.g. ``fold``); and ``(record_id, reason)`` for index rows that cannot
            be used (no files, unknown label code).
        """

    @abc.abstractmethod
    def read(self, row: pd.Series) -> Record:
        """Decodes the record of one index row into a :class:`Record` in mV."""

    def notes(self) -> list[str]:
        """What the user must hear once, before the records are read (e.g. what this reader
        cannot check in this folder, and how to let it)."""
        return []

    # -- tasks --------------------------------------------------------------------------
    tasks: dict[str, Task] = {}

    @property
    def task_names(self) -> tuple[str, ...]:
        """Names of the tasks this dataset supports."""
        return tuple(self.tasks)

    def task(self, name: str) -> Task:
        """The :class:`Task` called ``name``; unknown names raise, listing the valid ones."""
        if name not in self.tasks:
            raise self._unknown_task(name)
        return self.tasks[name]

    @abc.abstractmethod
    def encode(self, task: Task, codes: tuple[str, ...]) -> np.ndarray | None:
        """Label vector of shape ``(task.num_outputs,)`` for ``codes``, or None when the
        record does not belong to the task (e.g. neither MI nor NORM for ``mi_vs_norm``)."""

    def _unknown_task(self, name: str) -> KeyError:
        return KeyError(f"unknown task {name!r} for {self.name}; valid tasks: {', '.join(self.task_names)}")

    def label_table(self, task_name: str) -> pd.DataFrame:
        """The task's label table: one row per usable record, one 0/1 column per output,
        plus the index's meta columns."""
        task = self.task(task_name)
        frame, _ = self.index()
        rows, keep = [], []
        for i, codes in enumerate(frame["codes"]):
            y = self.encode(task, tuple(codes))
            if y is not None:
                rows.append(y)
                keep.append(i)
        labels = pd.DataFrame(np.asarray(rows, dtype=np.int8).reshape(len(rows), task.num_outputs),
                              columns=list(task.output_names))
        meta = frame.iloc[keep].drop(columns=["path", "codes"]).reset_index(drop=True)
        return pd.concat([meta, labels], axis=1)
