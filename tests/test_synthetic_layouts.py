"""Tests for ecgtf.data.synthetic_layouts: the files look like the real datasets."""

import ast
import csv
import glob
import importlib.util
import os

import numpy as np
import pandas as pd
import pytest
import wfdb

from ecgtf.data import synthetic_layouts as sl
from ecgtf.data.synthetic_layouts import ensure_synthetic, write_synthetic
from ecgtf.data.wfdb_io import header_comments, read_header, read_record

PTBXL_LEADS = ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
CINC2020_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@pytest.fixture(scope="module")
def ptbxl(tmp_path_factory):
    return write_synthetic("ptbxl", str(tmp_path_factory.mktemp("ptbxl")), 50, seed=0, progress=False)


@pytest.fixture(scope="module")
def cinc2020(tmp_path_factory):
    return write_synthetic("cinc2020", str(tmp_path_factory.mktemp("cinc2020")), 80, seed=0, progress=False)


def test_ptbxl_database_columns_codes_and_folds(ptbxl):
    db = pd.read_csv(os.path.join(ptbxl, "ptbxl_database.csv"))
    for column in ("ecg_id", "patient_id", "age", "sex", "scp_codes", "strat_fold", "filename_lr", "filename_hr"):
        assert column in db.columns
    assert list(db["ecg_id"]) == list(range(1, 51))
    assert sorted(db["strat_fold"].unique()) == list(range(1, 11))
    statements = pd.read_csv(os.path.join(ptbxl, "scp_statements.csv"), index_col=0)
    codes = [ast.literal_eval(s) for s in db["scp_codes"]]
    used = set().union(*codes)
    assert used <= set(statements.index)
    for rhythm in ("SR", "AFIB", "SBRAD", "STACH"):
        assert rhythm in used and statements.loc[rhythm, "rhythm"] == 1.0
        assert all(c[rhythm] == 0.0 for c in codes if rhythm in c)  # rhythm likelihood 0, as real
    classes = statements["diagnostic_class"]
    superclasses = [{classes[k] for k in c if statements.loc[k, "diagnostic"] == 1} for c in codes]
    assert {"NORM", "MI", "STTC", "CD", "HYP"} <= set().union(*superclasses)
    assert any(len(s) > 1 for s in superclasses)  # some multi-label records
    assert {"IMI", "LMI"} <= used and used & {"ASMI", "AMI"}
    assert classes["ILMI"] == "MI" and statements.loc["ILMI", "diagnostic_subclass"] == "IMI"
    assert classes["1AVB"] == classes["CLBBB"] == classes["CRBBB"] == "CD" and classes["LVH"] == "HYP"


def test_ptbxl_statements_match_real_columns(ptbxl):
    with open(os.path.join(ptbxl, "scp_statements.csv")) as f:
        header = next(csv.reader(f))
    assert header == ["", "description", "diagnostic", "form", "rhythm", "diagnostic_class",
                      "diagnostic_subclass", "Statement Category", "SCP-ECG Statement Description",
                      "AHA code", "aECG REFID", "CDISC Code", "DICOM Code"]


def test_ptbxl_records_at_100_and_500_hz(ptbxl):
    db = pd.read_csv(os.path.join(ptbxl, "ptbxl_database.csv"))
    row = db.iloc[0]
    assert row["filename_lr"] == "records100/00000/00001_lr" and row["filename_hr"] == "records500/00000/00001_hr"
    low = read_record(os.path.join(ptbxl, row["filename_lr"]))
    high = read_record(os.path.join(ptbxl, row["filename_hr"]))
    assert low.signal_mv.shape == (1000, 12) and low.sampling_rate == 100.0
    assert high.signal_mv.shape == (5000, 12) and high.sampling_rate == 500.0
    assert low.lead_names == PTBXL_LEADS == high.lead_names
    # the 100 Hz file is the 500 Hz one decimated: same waveform every 5th sample
    assert np.corrcoef(low.signal_mv[:, 1], high.signal_mv[::5, 1])[0, 1] > 0.9
    assert 0.3 < np.ptp(high.signal_mv[:, 1]) < 5.0  # mV


def test_cinc2017_layout(tmp_path):
    out = write_synthetic("cinc2017", str(tmp_path / "c17"), 40, seed=1, progress=False)
    folder = os.path.join(out, "training2017")
    with open(os.path.join(folder, "REFERENCE.csv")) as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "A00001" and len(rows) == 40  # no header row
    labels = [r[1] for r in rows]
    assert set(labels) == {"N", "A", "O", "~"}
    assert labels.count("N") > labels.count("A") > 0 and labels.count("~") > 0
    header = wfdb.rdheader(os.path.join(folder, "A00001"))
    assert header.fs == 300 and header.sig_name == ["ECG"] and header.file_name == ["A00001.mat"]
    for rid, _ in rows[:5]:
        rec = read_record(os.path.join(folder, rid))
        assert rec.signal_mv.shape[1] == 1 and rec.sampling_rate == 300.0
        assert 9.0 <= rec.duration_s <= 61.0
    with open(os.path.join(folder, "RECORDS")) as f:
        assert f.read().split() == [r[0] for r in rows]


def test_cinc2020_headers_rates_and_dx(cinc2020):
    headers = sorted(glob.glob(os.path.join(cinc2020, "*.hea")))
    assert len(headers) == 80
    prefixes = {os.path.basename(h).rstrip("0123456789.hea") for h in headers}
    assert {"A", "E", "HR", "JS"} <= prefixes
    rates, codes = set(), set()
    for hea in headers:
        path = hea[:-4]
        rec = read_record(path)
        rates.add(rec.sampling_rate)
        assert rec.lead_names == CINC2020_LEADS and rec.signal_mv.shape[1] == 12
        assert rec.duration_s >= 10.0
        with open(hea) as f:
            comments = [line for line in f.read().splitlines() if line.startswith("#")]
        assert [c.split(":")[0] for c in comments] == ["#Age", "#Sex", "#Dx", "#Rx", "#Hx", "#Sx"]
        codes |= set(comments[2].split(":", 1)[1].strip().split(","))
    assert rates == {257.0, 500.0, 1000.0}
    assert {"426783006", "164889003", "270492004", "164909002", "426177001", "427084000"} <= codes
    assert codes & {"59118001", "713427006"} and codes & {"427172004", "17338001"}


def test_some_georgia_headers_name_the_mat_file(cinc2020):
    e_headers = sorted(glob.glob(os.path.join(cinc2020, "E*.hea")))
    quirky = []
    for hea in e_headers:
        with open(hea) as f:
            first = f.readline().split()[0]
        if first.endswith(".mat"):
            quirky.append(hea)
    assert e_headers and quirky and len(quirky) < len(e_headers)
    with pytest.raises(Exception):
        wfdb.rdheader(quirky[0][:-4])  # what real readers trip over
    rec = read_record(quirky[0][:-4])  # the project's reader repairs it
    assert rec.signal_mv.shape == (5000, 12)
    plain = next(h for h in e_headers if h not in quirky)
    assert header_comments(read_header(plain[:-4]))["Rx"] == "Unknown"


def test_same_seed_same_files(tmp_path):
    a = write_synthetic("cinc2020", str(tmp_path / "a"), 3, seed=5, progress=False)
    b = write_synthetic("cinc2020", str(tmp_path / "b"), 3, seed=5, progress=False)
    for hea in sorted(glob.glob(os.path.join(a, "*.hea"))):
        name = os.path.basename(hea)[:-4]
        np.testing.assert_array_equal(read_record(os.path.join(a, name)).signal_mv,
                                      read_record(os.path.join(b, name)).signal_mv)


def test_unknown_layout_lists_valid_ones(tmp_path):
    with pytest.raises(KeyError, match="ptbxl, cinc2017, cinc2020"):
        write_synthetic("mitdb", str(tmp_path), 2)


def test_ensure_synthetic_reuses_finished_folder(tmp_path, monkeypatch):
    calls = []
    real = sl.write_synthetic

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sl, "write_synthetic", counting)
    first = ensure_synthetic("cinc2017", root=str(tmp_path), n=4, seed=3)
    assert first == os.path.join(str(tmp_path), f"cinc2017-n4-s3-v{sl.FORMAT_VERSION}") and len(calls) == 1
    stamp = os.path.getmtime(os.path.join(first, "training2017", "REFERENCE.csv"))
    second = ensure_synthetic("cinc2017", root=str(tmp_path), n=4, seed=3)
    assert second == first and len(calls) == 1
    assert os.path.getmtime(os.path.join(first, "training2017", "REFERENCE.csv")) == stamp
    assert [p for p in os.listdir(tmp_path) if "partial" in p] == []


def test_ensure_synthetic_ignores_interrupted_generation(tmp_path, monkeypatch):
    def interrupted(layout, out_dir, n, seed=0, progress=True):
        os.makedirs(os.path.join(out_dir, "training2017"))
        raise KeyboardInterrupt

    monkeypatch.setattr(sl, "write_synthetic", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic("cinc2017", root=str(tmp_path), n=4, seed=0)
    assert not [d for d in os.listdir(tmp_path) if d.startswith("cinc2017-n4-s0")]
    # a partial folder left behind by a killed process is not taken as complete either
    os.makedirs(tmp_path / f".cinc2017-n4-s0-v{sl.FORMAT_VERSION}.partial-dead" / "training2017")
    monkeypatch.undo()
    done = ensure_synthetic("cinc2017", root=str(tmp_path), n=4, seed=0)
    assert done == os.path.join(str(tmp_path), f"cinc2017-n4-s0-v{sl.FORMAT_VERSION}")
    assert len(os.listdir(os.path.join(done, "training2017"))) == 2 * 4 + 2


def test_ensure_synthetic_default_root_uses_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGTF_CACHE", str(tmp_path))
    assert sl.default_root() == os.path.join(str(tmp_path), "synthetic")
    out = ensure_synthetic("cinc2017", n=2, seed=0)
    assert out == os.path.join(str(tmp_path), "synthetic", f"cinc2017-n2-s0-v{sl.FORMAT_VERSION}") and os.path.isdir(out)


def test_make_synthetic_script(tmp_path, capsys):
    path = os.path.join(os.path.dirname(__file__), "..", "scripts", "make_synthetic.py")
    spec = importlib.util.spec_from_file_location("make_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(["--layout", "cinc2017", "--n", "3", "--out", str(tmp_path / "x"), "--no-progress"])
    assert "wrote 3 synthetic cinc2017 records" in capsys.readouterr().out
    assert len(glob.glob(os.path.join(out, "training2017", "*.mat"))) == 3
