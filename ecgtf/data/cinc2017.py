"""PhysioNet/CinC Challenge 2017 reader (Clifford et al., CinC 2017).

Layout: ``training2017/REFERENCE.csv`` (``A00001,N``; no header in the original, a
header row is accepted) and ``training2017/A*.mat`` + ``.hea``: single lead, 300 Hz.
"""

from __future__ import annotations

import csv
import os

import numpy as np
import pandas as pd

from ecgtf.data.base import Reader
from ecgtf.data.record import Record
from ecgtf.data.tasks import Task
from ecgtf.data.wfdb_io import read_record

AF4_CLASSES = ("N", "A", "O", "~")
_TASKS = {"af4": Task("af4", AF4_CLASSES, "multiclass", "cinc2017_f1")}


class CinC2017Reader(Reader):
    """Reads the CinC 2017 training set.

    Args:
        data_dir: the folder holding ``training2017/`` (or ``training2017/`` itself).
    """

    name = "cinc2017"
    expected_leads = 1
    native_rate = 300.0
    tasks = _TASKS
    default_task = "af4"

    def __init__(self, data_dir: str):
        super().__init__(data_dir)
        self._frame = None

    def check_layout(self) -> None:
        for candidate in (os.path.join(self.data_dir, "training2017"), self.data_dir):
            if os.path.isfile(os.path.join(candidate, "REFERENCE.csv")):
                self.record_dir = candidate
                return
        raise self._missing("training2017/REFERENCE.csv beside the A*.mat/.hea records")

    def index(self):
        if self._frame is not None:
            return self._frame
        rows, problems = [], []
        with open(os.path.join(self.record_dir, "REFERENCE.csv"), newline="") as f:
            for line_no, fields in enumerate(csv.reader(f)):
                fields = [x.strip() for x in fields]
                if not fields or not fields[0]:
                    continue
                if line_no == 0 and fields[-1] not in AF4_CLASSES and not fields[0].startswith("A"):
                    continue  # a header row
                rid = fields[0]
                label = fields[1] if len(fields) > 1 else ""
                path = os.path.join(self.record_dir, rid)
                if label not in AF4_CLASSES:
                    problems.append((rid, f"label code not in the mapping {AF4_CLASSES}: {label!r}"))
                elif not os.path.exists(path + ".hea") and not os.path.exists(path + ".mat"):
                    problems.append((rid, "reference row with no files: no .hea or .mat"))
                else:
                    rows.append({"record_id": rid, "path": path, "codes": (label,)})
        self._frame = (pd.DataFrame(rows, columns=["record_id", "path", "codes"]), problems)
        return self._frame

    def read(self, row) -> Record:
        return read_record(row["path"], record_id=row["record_id"], codes=row["codes"])


    def encode(self, task: Task, codes):
        if task.name != "af4":
            raise self._unknown_task(task.name)
        y = np.zeros(len(AF4_CLASSES), dtype=np.int8)
        y[AF4_CLASSES.index(codes[0])] = 1
        return y
