"""Tiny on-disk datasets in the real PhysioNet layouts, written by the tests themselves."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ecgtf.data.wfdb_io import write_record

PTBXL_LEADS = ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
CINC2020_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

# code: (diagnostic, rhythm, diagnostic_class)
SCP = {
    "NORM": (1, 0, "NORM"), "IMI": (1, 0, "MI"), "ASMI": (1, 0, "MI"), "NDT": (1, 0, "STTC"),
    "1AVB": (1, 0, "CD"), "CRBBB": (1, 0, "CD"), "CLBBB": (1, 0, "CD"), "LVH": (1, 0, "HYP"),
    "SR": (0, 1, ""), "AFIB": (0, 1, ""), "SBRAD": (0, 1, ""), "STACH": (0, 1, ""),
}


def ecg_like(n: int, leads: int, rate: float, seed: int = 0) -> np.ndarray:
    """A non-flat, finite ``(n, leads)`` signal in mV: 1 Hz spikes plus small noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    beat = np.exp(-(((t % 1.0) - 0.5) ** 2) / (2 * 0.01 ** 2))
    return (beat[:, None] * rng.uniform(0.5, 1.5, leads) + 0.02 * rng.standard_normal((n, leads))).astype(np.float32)


def write_ptbxl(root, records: list[dict], rate: int = 100, seconds: float = 2.0) -> str:
    """Writes a PTB-XL layout. ``records``: dicts with ``scp_codes`` (dict) and ``fold``;
    optional ``leads`` (lead count) and ``signal`` (array overriding the generated one)."""
    root = str(root)
    os.makedirs(root, exist_ok=True)
    st = pd.DataFrame(
        [{"code": c, "description": c, "diagnostic": d or np.nan, "form": np.nan, "rhythm": r or np.nan,
          "diagnostic_class": k or np.nan, "diagnostic_subclass": k or np.nan} for c, (d, r, k) in SCP.items()]
    ).set_index("code")
    st.index.name = None
    st.to_csv(os.path.join(root, "scp_statements.csv"))
    rows = []
    for i, rec in enumerate(records, start=1):
        folder = f"{(i // 1000) * 1000:05d}"
        lr, hr = f"records100/{folder}/{i:05d}_lr", f"records500/{folder}/{i:05d}_hr"
        n_leads = rec.get("leads", 12)
        for r, rel in ((100, lr), (500, hr)):
            if r != rate and not rec.get("both_rates"):
                continue
            sig = rec.get("signal")
            if sig is None:
                sig = ecg_like(int(seconds * r), n_leads, r, seed=i)
            write_record(os.path.join(root, os.path.dirname(rel)), os.path.basename(rel), sig, r,
                         PTBXL_LEADS[:n_leads] if n_leads <= 12 else [f"L{j}" for j in range(n_leads)])
        rows.append({"ecg_id": i, "patient_id": 1000 + i, "age": 50, "sex": 0,
                     "scp_codes": repr(rec["scp_codes"]), "strat_fold": rec["fold"],
                     "filename_lr": lr, "filename_hr": hr})
    pd.DataFrame(rows).to_csv(os.path.join(root, "ptbxl_database.csv"), index=False)
    return root


def write_cinc2017(root, labels: dict[str, str], rate: int = 300, seconds: float = 3.0, header_row: bool = False,
                   signals: dict | None = None) -> str:
    """Writes ``training2017/`` with REFERENCE.csv and ``.mat``/``.hea`` records."""
    folder = os.path.join(str(root), "training2017")
    os.makedirs(folder, exist_ok=True)
    lines = ["record,label"] if header_row else []
    for i, (rid, label) in enumerate(labels.items()):
        sig = (signals or {}).get(rid)
        if sig is None:
            sig = ecg_like(int(seconds * rate) + 37 * i, 1, rate, seed=i)
        write_record(folder, rid, sig, rate, ["ECG"], fmt="mat")
        lines.append(f"{rid},{label}")
    with open(os.path.join(folder, "REFERENCE.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return str(root)


def write_cinc2020_record(root, rid: str, dx: list[str], rate: float = 500, seconds: float = 2.0,
                          georgia_style: bool = False, seed: int = 0) -> str:
    """Writes one CinC 2020 record; ``georgia_style`` names ``RID.mat`` on the record line."""
    comments = ["Age: 60", "Sex: Male", "Dx: " + ",".join(dx), "Rx: Unknown", "Hx: Unknown", "Sx: Unknown"]
    path = write_record(str(root), rid, ecg_like(int(seconds * rate), 12, rate, seed), rate, CINC2020_LEADS,
                        fmt="mat", comments=comments)
    if georgia_style:
        with open(path + ".hea") as f:
            lines = f.read().splitlines()
        first = lines[0].split()
        first[0] = rid + ".mat"
        lines[0] = " ".join(first)
        with open(path + ".hea", "w") as f:
            f.write("\n".join(lines) + "\n")
    return path
