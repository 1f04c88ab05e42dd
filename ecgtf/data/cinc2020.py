"""PhysioNet/CinC Challenge 2020/2021 reader (Perez Alday et al., Physiol Meas 2020).

Layout: a folder (searched recursively) of ``*.hea`` headers with ``#Dx:`` SNOMED CT
codes and ``.mat`` signals, 12 leads, sampling rates from 257 to 1000 Hz. Optional
official scoring tables (``dx_mapping_scored.csv``, ``weights.csv``) are looked for in
``scoring/evaluation-2020`` beside or inside the data folder, or given explicitly.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pandas as pd

from ecgtf.data.base import Reader
from ecgtf.data.record import Record
from ecgtf.data.tasks import Task
from ecgtf.data.wfdb_io import read_record, record_line_problem

NORMAL_CLASS = "426783006"
# The 27 SNOMED CT codes scored in the 2020 challenge (dx_mapping_scored.csv), in the
# order of the official weights.csv, with their abbreviations.
SCORED_2020 = (
    ("270492004", "IAVB"), ("164889003", "AF"), ("164890007", "AFL"), ("426627000", "Brady"),
    ("713427006", "CRBBB"), ("713426002", "IRBBB"), ("445118002", "LAnFB"), ("39732003", "LAD"),
    ("164909002", "LBBB"), ("251146004", "LQRSV"), ("698252002", "NSIVCB"), ("10370003", "PR"),
    ("284470004", "PAC"), ("427172004", "PVC"), ("164947007", "LPR"), ("111975006", "LQT"),
    ("164917005", "QAb"), ("47665007", "RAD"), ("59118001", "RBBB"), ("427393009", "SA"),
    ("426177001", "SB"), ("426783006", "NSR"), ("427084000", "STach"), ("63593006", "SVPB"),
    ("164934002", "TAb"), ("59931005", "TInv"), ("17338001", "VPB"),
)
SCORED_CODES = frozenset(c for c, _ in SCORED_2020)
# Codes the challenge scores as one class; the first code names the class.
EQUIVALENT = {"59118001": "713427006", "63593006": "284470004", "17338001": "427172004"}


def scored_classes() -> tuple[list[str], list[str]]:
    """The ``scored27`` classes after merging equivalent codes: ``(codes, names)`` (24 each)."""
    abbrev = dict(SCORED_2020)
    codes = [c for c, _ in SCORED_2020 if c not in EQUIVALENT]
    merged = {v: k for k, v in EQUIVALENT.items()}
    names = [abbrev[c] + (f"/{abbrev[merged[c]]}" if c in merged else "") for c in codes]
    return codes, names


class CinC2020Reader(Reader):
    """Reads PhysioNet/CinC 2020/2021 12-lead records.

    Args:
        data_dir: folder with ``*.hea``/``*.mat`` (sub-folders are searched too).
        scoring_dir: folder with the official ``weights.csv`` (and mapping tables);
            found automatically under ``scoring/evaluation-2020`` when omitted.
    """

    name = "cinc2020"
    expected_leads = 12
    native_rate = 500.0
    default_task = "scored27"

    def __init__(self, data_dir: str, scoring_dir: str | None = None):
        super().__init__(data_dir)
        self.scoring_dir = scoring_dir or self._find_scoring_dir()
        self._frame = None
        self._task = None
        self._known = False  # not read yet
        #: record id -> why it was kept with a warning (codes in neither mapping table, or not checked)
        self.code_warnings: dict[str, str] = {}

    def check_layout(self) -> None:
        self._headers = sorted(glob.glob(os.path.join(self.data_dir, "**", "*.hea"), recursive=True))
        headers = {h[:-4] for h in self._headers}
        self._orphans = [m for m in sorted(glob.glob(os.path.join(self.data_dir, "**", "*.mat"), recursive=True))
                         if m[:-4] not in headers]  # signals whose header is missing
        if not self._headers:
            raise self._missing("*.hea headers with '#Dx:' SNOMED codes beside their .mat signals")

    def _find_scoring_dir(self) -> str | None:
        for base in (self.data_dir, os.path.dirname(os.path.abspath(self.data_dir))):
            for sub in ("scoring/evaluation-2020", "scoring", "evaluation-2020"):
                candidate = os.path.join(base, sub)
                if os.path.isfile(os.path.join(candidate, "weights.csv")):
                    return candidate
        return None

    def known_codes(self) -> set[str] | None:
        """SNOMED codes of the official scored and unscored mapping tables (those of the scoring
        folder and of its ``evaluation-*`` siblings, so 2021 data is checked against the 2021
        tables too); None when no ``dx_mapping_unscored.csv`` is found (no code can be called
        unknown then: :meth:`notes` says so, and records with codes outside the scored ones are
        kept with a warning)."""
        if self._known is False:
            self._known = self._read_known_codes()
        return self._known

    def _read_known_codes(self) -> set[str] | None:
        if not self.scoring_dir:
            return None
        folders = {self.scoring_dir, *glob.glob(os.path.join(os.path.dirname(self.scoring_dir), "evaluation-*"))}
        tables = [os.path.join(d, f"dx_mapping_{kind}.csv") for d in sorted(folders) for kind in ("scored", "unscored")]
        if not any(t.endswith("unscored.csv") and os.path.isfile(t) for t in tables):
            return None
        known = set(SCORED_CODES)
        for table in filter(os.path.isfile, tables):
            frame = pd.read_csv(table, dtype=str)
            # "SNOMED CT Code" in the 2020 tables, "SNOMEDCTCode" in the 2021 ones
            column = next((c for c in frame.columns if c.replace(" ", "").lower() == "snomedctcode"), None)
            if column is None:
                raise ValueError(f"{table}: no SNOMED CT code column (columns: {', '.join(frame.columns)})")
            known.update(frame[column].dropna().str.strip())
        return known

    def index(self):
        if self._frame is not None:
            return self._frame
        rows, problems = [], []
        for mat in self._orphans:
            problems.append((os.path.basename(mat)[:-4], f"missing header file: {os.path.relpath(mat, self.data_dir)} "
                                                          "has no .hea beside it"))
        known = self.known_codes()
        for hea in self._headers:
            path = hea[:-4]
            rid = os.path.basename(path)
            try:
                dx = _read_dx(hea)
            except (OSError, UnicodeDecodeError) as err:
                problems.append((rid, f"header does not parse: {err}"))
                continue
            if dx is None:  # a garbage header has no '#Dx:' line either: say what is wrong with it
                problems.append((rid, record_line_problem(hea) or "header has no '#Dx:' line (diagnosis codes)"))
                continue
            bad = [c for c in dx if not c.isdigit()]
            if bad:
                problems.append((rid, f"label code not in the mapping (not a SNOMED CT code): {', '.join(bad)}"))
                continue
            unknown = [c for c in dx if known is not None and c not in known]
            if unknown and len(unknown) == len(dx):
                problems.append((rid, f"label code(s) in neither mapping table: {', '.join(unknown)}"))
                continue
            unchecked = [c for c in dx if known is None and c not in SCORED_CODES]
            if unknown:
                self.code_warnings[rid] = f"label code(s) in neither mapping table, ignored: {', '.join(unknown)}"
            elif unchecked:
                self.code_warnings[rid] = (f"label code(s) not checked (no mapping tables), counted as no class: "
                                           f"{', '.join(unchecked)}")
            rows.append({"record_id": rid, "path": path, "codes": dx, "source": _source(rid)})
        self._frame = (pd.DataFrame(rows, columns=["record_id", "path", "codes", "source"]), problems)
        return self._frame

    def read(self, row) -> Record:
        return read_record(row["path"], record_id=row["record_id"], codes=row["codes"],
                           meta={"source": row["source"]})

    def notes(self) -> list[str]:
        if self.known_codes() is not None:
            return []
        where = self.scoring_dir or "scoring/evaluation-2020 beside or inside the data folder"
        return [f"the CinC 2020 label codes are not checked: no dx_mapping_scored.csv and dx_mapping_unscored.csv "
                f"in {where}. A code outside the 27 scored ones counts as no class, and each record with one is "
                "listed in warnings.csv. To check the codes, give --scoring-dir DIR: the folder of the challenge's "
                "tables (weights.csv, dx_mapping_scored.csv, dx_mapping_unscored.csv of evaluation-2020)"]

    @property
    def task_names(self):
        return ("scored27",)

    def task(self, name: str) -> Task:
        if name != "scored27":
            raise self._unknown_task(name)
        if self._task is None:
            codes, names = scored_classes()
            extras = {"snomed_codes": codes, "normal_class": NORMAL_CLASS, "weights": None}
            if self.scoring_dir:
                from ecgtf.evaluation.scores import load_weights

                _, weights = load_weights(os.path.join(self.scoring_dir, "weights.csv"), classes=codes)
                extras.update(weights=np.asarray(weights), weights_csv=os.path.join(self.scoring_dir, "weights.csv"))
            # Without the official weights the challenge metric is undefined: select by macro AUC.
            main = "challenge_metric" if extras["weights"] is not None else "macro_auc"
            self._task = Task("scored27", tuple(names), "multilabel", main, extras)
        return self._task

    def encode(self, task: Task, codes):
        if task.name != "scored27":
            raise self._unknown_task(task.name)
        present = {EQUIVALENT.get(c, c) for c in codes}
        return np.array([c in present for c in task.extras["snomed_codes"]], dtype=np.int8)


def _read_dx(hea_path: str) -> tuple[str, ...] | None:
    with open(hea_path, encoding="ascii", errors="ignore") as f:
        for line in f:
            if line.startswith("#") and line.lstrip("# ").lower().startswith("dx:"):
                value = line.split(":", 1)[1]
                return tuple(c.strip() for c in value.split(",") if c.strip())
    return None


def _source(record_id: str) -> str:
    """The source database, from the record id's prefix (A: CPSC, Q: CPSC-Extra, I: INCART,
    S: PTB, HR: PTB-XL, E: Georgia, JS: Chapman-Ningbo)."""
    prefix = record_id.rstrip("0123456789")
    return {"A": "CPSC", "Q": "CPSC-Extra", "I": "INCART", "S": "PTB", "HR": "PTB-XL",
            "E": "Georgia", "JS": "Chapman-Ningbo"}.get(prefix, prefix or "unknown")
