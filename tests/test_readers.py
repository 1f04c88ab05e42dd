"""Readers on tiny datasets written in the real layouts: labels, rates, lead names."""

import numpy as np
import pytest

from data_builders import write_cinc2017, write_cinc2020_record, write_ptbxl
from ecgtf.data.cinc2017 import CinC2017Reader
from ecgtf.data.cinc2020 import CinC2020Reader, scored_classes
from ecgtf.data.datasets import load_dataset
from ecgtf.data.ptbxl import PTBXLReader
from ecgtf.data.record import DataDirError

PTBXL_RECORDS = [
    {"scp_codes": {"NORM": 100.0, "SR": 0.0}, "fold": 1},
    {"scp_codes": {"IMI": 80.0, "SR": 0.0}, "fold": 2},
    {"scp_codes": {"ASMI": 100.0, "NDT": 50.0, "AFIB": 0.0}, "fold": 9},
    {"scp_codes": {"1AVB": 100.0, "SBRAD": 0.0}, "fold": 10},
    {"scp_codes": {"CLBBB": 100.0, "STACH": 0.0}, "fold": 3},
    {"scp_codes": {"SR": 0.0}, "fold": 4},  # no diagnostic statement
]


@pytest.fixture
def ptbxl_dir(tmp_path):
    both_rates_all(PTBXL_RECORDS)
    return write_ptbxl(tmp_path, PTBXL_RECORDS)


def both_rates_all(records):
    for r in records:
        r["both_rates"] = True
    return 100


def labels_of(reader, task):
    table = reader.label_table(task)
    return {row.record_id: tuple(int(row[c]) for c in reader.task(task).output_names) for _, row in table.iterrows()}


def test_ptbxl_tasks(ptbxl_dir):
    reader = PTBXLReader(ptbxl_dir, sampling_rate=100)
    assert labels_of(reader, "superdiagnostic") == {
        "1": (1, 0, 0, 0, 0), "2": (0, 1, 0, 0, 0), "3": (0, 1, 1, 0, 0), "4": (0, 0, 0, 1, 0), "5": (0, 0, 0, 1, 0),
    }
    assert labels_of(reader, "mi") == {"1": (0,), "2": (1,), "3": (1,), "4": (0,), "5": (0,), "6": (0,)}
    assert labels_of(reader, "mi_vs_norm") == {"1": (0,), "2": (1,), "3": (1,)}
    assert labels_of(reader, "normal_abnormal") == {"1": (0,), "2": (1,), "3": (1,), "4": (1,), "5": (1,), "6": (1,)}
    # Rhythm codes carry likelihood 0 and still count.
    r6 = labels_of(reader, "ribeiro6")
    assert r6["3"] == (0, 0, 0, 0, 1, 0)
    assert r6["4"] == (1, 0, 0, 1, 0, 0)
    assert r6["5"] == (0, 0, 1, 0, 0, 1)
    assert r6["1"] == (0,) * 6


def test_ptbxl_rates_and_leads(ptbxl_dir, tmp_path):
    for rate, n in ((100, 200), (500, 1000)):
        reader = PTBXLReader(ptbxl_dir, sampling_rate=rate)
        frame, problems = reader.index()
        rec = reader.read(frame.iloc[0])
        assert rec.signal_mv.shape == (n, 12) and rec.signal_mv.dtype == np.float32
        assert rec.sampling_rate == rate
        assert rec.lead_names[:3] == ("I", "II", "III")
        assert not problems
    data = load_dataset("ptbxl", ptbxl_dir, task="superdiagnostic", sampling_rate=100,
                        cache_root=str(tmp_path / "cache"), progress=False)
    assert sorted(data.meta["fold"]) == [1, 2, 3, 9, 10]
    with pytest.raises(ValueError, match="100"):
        PTBXLReader(ptbxl_dir, sampling_rate=250)


@pytest.mark.parametrize("header_row", [False, True])
def test_cinc2017_labels(tmp_path, header_row):
    root = write_cinc2017(tmp_path, {"A00001": "N", "A00002": "A", "A00003": "O", "A00004": "~"},
                          header_row=header_row)
    reader = CinC2017Reader(root)
    frame, problems = reader.index()
    assert not problems and list(frame["record_id"]) == ["A00001", "A00002", "A00003", "A00004"]
    rec = reader.read(frame.iloc[1])
    assert rec.sampling_rate == 300 and rec.signal_mv.shape[1] == 1
    data = load_dataset("cinc2017", root, cache_root=str(tmp_path / "cache"), progress=False)
    np.testing.assert_array_equal(data.labels.argmax(1), [0, 1, 2, 3])
    assert data.class_counts() == {"N": 1, "A": 1, "O": 1, "~": 1}


def test_cinc2020_mixed_rates_and_georgia_headers(tmp_path):
    write_cinc2020_record(tmp_path, "A0001", ["164889003", "59118001"], rate=500)
    write_cinc2020_record(tmp_path, "E00001", ["426783006"], rate=500, georgia_style=True)
    write_cinc2020_record(tmp_path, "I0001", ["426177001", "164865005"], rate=257, seconds=3)
    write_cinc2020_record(tmp_path, "JS0001", ["427084000"], rate=1000)
    data = load_dataset("cinc2020", str(tmp_path), sampling_rate=250, cache_root=str(tmp_path / "cache"),
                        progress=False)
    assert len(data) == 4 and data.skipped.empty
    assert data.sampling_rate == 250
    np.testing.assert_array_equal(data.lengths, [500, 500, 750, 500])
    codes, _ = scored_classes()
    assert len(codes) == 24
    y = dict(zip(data.meta["record_id"], data.labels))
    # RBBB 59118001 is merged into CRBBB 713427006.
    assert {codes[i] for i in np.flatnonzero(y["A0001"])} == {"164889003", "713427006"}
    assert {codes[i] for i in np.flatnonzero(y["E00001"])} == {"426783006"}
    assert {codes[i] for i in np.flatnonzero(y["I0001"])} == {"426177001"}  # unscored MI code ignored
    assert CinC2020Reader(str(tmp_path)).read(
        CinC2020Reader(str(tmp_path)).index()[0].iloc[1]).lead_names[3] == "aVR"


@pytest.mark.parametrize("dataset, expected", [("ptbxl", "ptbxl_database.csv"), ("cinc2017", "REFERENCE.csv"),
                                               ("cinc2020", "#Dx")])
def test_wrong_data_dir_says_what_was_expected(tmp_path, dataset, expected):
    with pytest.raises(DataDirError, match=expected):
        load_dataset(dataset, str(tmp_path), cache_root=str(tmp_path / "cache"), progress=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(dataset, str(tmp_path / "nope"), progress=False)


def test_cache_is_reused(tmp_path):
    root = write_cinc2017(tmp_path / "d", {"A00001": "N", "A00002": "A"})
    first = load_dataset("cinc2017", root, cache_root=str(tmp_path / "cache"), progress=False)
    second = load_dataset("cinc2017", root, cache_root=str(tmp_path / "cache"), progress=False)
    assert not first.from_cache and second.from_cache
    np.testing.assert_array_equal(first.signal(1), second.signal(1))
