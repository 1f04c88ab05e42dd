"""PTB-XL reader (Wagner et al., Sci Data 7:154, 2020).

Layout: ``ptbxl_database.csv``, ``scp_statements.csv``, ``records100/`` (100 Hz) and
``records500/`` (500 Hz); splits by the ``strat_fold`` column (1-10).
"""

from __future__ import annotations

import ast
import os

import numpy as np
import pandas as pd

from ecgtf.data.base import Reader
from ecgtf.data.record import Record
from ecgtf.data.tasks import Task
from ecgtf.data.wfdb_io import read_record

SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
RIBEIRO6 = {"1dAVb": "1AVB", "RBBB": "CRBBB", "LBBB": "CLBBB", "SB": "SBRAD", "AF": "AFIB", "ST": "STACH"}

_TASKS = {
    "mi": Task("mi", ("other", "MI"), "binary", "auc"),
    "mi_vs_norm": Task("mi_vs_norm", ("NORM", "MI"), "binary", "auc"),
    "normal_abnormal": Task("normal_abnormal", ("normal", "abnormal"), "binary", "auc"),
    "superdiagnostic": Task("superdiagnostic", SUPERCLASSES, "multilabel", "macro_auc"),
    "ribeiro6": Task("ribeiro6", tuple(RIBEIRO6), "multilabel", "macro_auc"),
}
_RATES = {100: ("records100", "filename_lr"), 500: ("records500", "filename_hr")}


class PTBXLReader(Reader):
    """Reads PTB-XL at 100 or 500 Hz.

    Args:
        data_dir: folder holding ``ptbxl_database.csv``.
        sampling_rate: 100 (``records100``) or 500 (``records500``) Hz.
    """

    name = "ptbxl"
    expected_leads = 12
    tasks = _TASKS
    default_task = "superdiagnostic"

    def __init__(self, data_dir: str, sampling_rate: int = 100):
        if int(sampling_rate) not in _RATES:
            raise ValueError(f"PTB-XL sampling rate must be one of {sorted(_RATES)} Hz, got {sampling_rate}")
        self.sampling_rate = int(sampling_rate)
        self.native_rate = float(sampling_rate)
        super().__init__(data_dir)
        self._frame = None
        self._diag_class = None

    def check_layout(self) -> None:
        for name in ("ptbxl_database.csv", "scp_statements.csv"):
            if not os.path.isfile(os.path.join(self.data_dir, name)):
                raise self._missing("ptbxl_database.csv, scp_statements.csv and records100/ or records500/")

    # -- statements ---------------------------------------------------------------------
    @property
    def diagnostic_class(self) -> dict[str, str]:
        """SCP code -> diagnostic superclass, for codes with ``diagnostic == 1``."""
        if self._diag_class is None:
            st = pd.read_csv(os.path.join(self.data_dir, "scp_statements.csv"), index_col=0)
            self._statements = st
            diag = st[st["diagnostic"] == 1]
            self._diag_class = {str(k): str(v) for k, v in diag["diagnostic_class"].items() if isinstance(v, str)}
        return self._diag_class

    @property
    def known_codes(self) -> set[str]:
        self.diagnostic_class  # loads the statements
        return {str(c) for c in self._statements.index}

    # -- records ------------------------------------------------------------------------
    def index(self):
        if self._frame is not None:
            return self._frame
        db = pd.read_csv(os.path.join(self.data_dir, "ptbxl_database.csv"))
        folder, column = _RATES[self.sampling_rate]
        known = self.known_codes
        rows, problems = [], []
        for rec in db.itertuples(index=False):
            rid = str(int(rec.ecg_id))
            rel = getattr(rec, column)
            path = os.path.join(self.data_dir, str(rel))
            if not os.path.exists(path + ".hea"):
                problems.append((rid, f"missing header file: {rel}.hea (listed in ptbxl_database.csv)"))
                continue
            try:
                codes = tuple(ast.literal_eval(rec.scp_codes).keys())
            except (ValueError, SyntaxError):
                problems.append((rid, f"scp_codes does not parse: {rec.scp_codes!r}"))
                continue
            unknown = [c for c in codes if c not in known]
            if unknown:
                problems.append((rid, f"label code not in scp_statements.csv: {', '.join(unknown)}"))
                continue
            rows.append({"record_id": rid, "path": path, "codes": codes, "fold": int(rec.strat_fold),
                         "patient_id": rec.patient_id})
        if not rows and all(reason.startswith("missing header file") for _, reason in problems):
            raise self._missing(f"{folder}/ with the .hea/.dat files named in ptbxl_database.csv")
        frame = pd.DataFrame(rows, columns=["record_id", "path", "codes", "fold", "patient_id"])
        self._frame = (frame, problems)
        return self._frame

    def read(self, row) -> Record:
        return read_record(row["path"], record_id=row["record_id"], codes=row["codes"],
                           meta={"fold": int(row["fold"])})

    # -- tasks --------------------------------------------------------------------------

    def superclasses(self, codes) -> set[str]:
        """Diagnostic superclasses of a record's SCP codes (any likelihood counts)."""
        mapping = self.diagnostic_class
        return {mapping[c] for c in codes if c in mapping}

    def encode(self, task: Task, codes):
        present = set(codes)
        classes = self.superclasses(codes)
        if task.name == "superdiagnostic":
            if not classes:
                return None  # no diagnostic statement: not part of the task (as in the PTB-XL benchmark)
            return np.array([c in classes for c in SUPERCLASSES], dtype=np.int8)
        if task.name == "ribeiro6":
            # Rhythm codes carry likelihood 0 in PTB-XL: a code counts when it appears at all.
            return np.array([code in present for code in RIBEIRO6.values()], dtype=np.int8)
        if task.name == "mi":
            return np.array(["MI" in classes], dtype=np.int8)
        if task.name == "mi_vs_norm":
            if "MI" in classes:
                return np.array([1], dtype=np.int8)
            return np.array([0], dtype=np.int8) if classes == {"NORM"} else None
        if task.name == "normal_abnormal":
            return np.array([classes != {"NORM"}], dtype=np.int8)
        raise self._unknown_task(task.name)
