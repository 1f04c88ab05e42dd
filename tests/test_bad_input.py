"""Every kind of bad record is skipped with its id and reason, or raises under --strict.

Each test writes its own broken file.
"""

import os

import numpy as np
import pytest

from data_builders import ecg_like, write_cinc2017, write_ptbxl
from ecgtf.data.datasets import load_dataset
from ecgtf.data.record import RecordError
from ecgtf.data.wfdb_io import write_record

GOOD = {"A00001": "N", "A00002": "A", "A00003": "O"}


def load(root, tmp_path, strict=False, dataset="cinc2017"):
    return load_dataset(dataset, root, strict=strict, cache_root=str(tmp_path / "cache"), progress=False)


def check_skipped(root, tmp_path, record_id, reason_words, dataset="cinc2017", n_good=3):
    data = load(root, tmp_path, dataset=dataset)
    assert len(data) == n_good
    rows = data.skipped[data.skipped["record_id"] == record_id]
    assert len(rows) == 1, data.skipped
    reason = rows.iloc[0]["reason"].lower()
    for word in reason_words:
        assert word in reason, reason
    with pytest.raises(RecordError, match=record_id):
        load(root, tmp_path, strict=True, dataset=dataset)
    return data


def with_bad(tmp_path, label="N", signal=None):
    signals = {"A00009": signal} if signal is not None else None
    root = write_cinc2017(tmp_path / "d", {**GOOD, "A00009": label}, signals=signals)
    return root, os.path.join(root, "training2017", "A00009")


def test_header_that_does_not_parse(tmp_path):
    root, path = with_bad(tmp_path)
    with open(path + ".hea", "w") as f:
        f.write("A00009 this is not a header\nnonsense\n")
    check_skipped(root, tmp_path, "A00009", ["header"])


def test_missing_signal_file(tmp_path):
    root, path = with_bad(tmp_path)
    os.remove(path + ".mat")
    check_skipped(root, tmp_path, "A00009", ["missing"])


def test_truncated_signal_file(tmp_path):
    root, path = with_bad(tmp_path)
    size = os.path.getsize(path + ".mat")
    with open(path + ".mat", "r+b") as f:
        f.truncate(size // 2)
    check_skipped(root, tmp_path, "A00009", ["truncated"])


def test_nan_samples(tmp_path):
    root = write_ptbxl(tmp_path / "d", [{"scp_codes": {"NORM": 100.0}, "fold": 1},
                                        {"scp_codes": {"IMI": 100.0}, "fold": 2}])
    dat = os.path.join(root, "records100", "00000", "00002_lr.dat")
    raw = bytearray(open(dat, "rb").read())
    raw[24:26] = (-32768).to_bytes(2, "little", signed=True)  # WFDB format 16 NaN sentinel, lead 1
    open(dat, "wb").write(raw)
    check_skipped(root, tmp_path, "2", ["nan"], dataset="ptbxl", n_good=1)


def test_flat_lead(tmp_path):
    sig = ecg_like(900, 1, 300)
    sig[:] = 0.0
    root, _ = with_bad(tmp_path, signal=sig)
    check_skipped(root, tmp_path, "A00009", ["flat"])


def test_some_flat_leads_of_12_are_reported_and_kept(tmp_path):
    sig = ecg_like(200, 12, 100)
    sig[:, 7] = 0.25
    root = write_ptbxl(tmp_path / "d", [{"scp_codes": {"NORM": 100.0}, "fold": 1},
                                        {"scp_codes": {"NORM": 100.0}, "fold": 1, "signal": sig}])
    data = load(root, tmp_path, dataset="ptbxl")
    # Some flat leads of 12: the record is kept and the leads are reported; --strict stops.
    assert len(data) == 2 and data.skipped.empty
    assert list(data.warnings["record_id"]) == ["2"] and "V2" in data.warnings.iloc[0]["reason"]
    for cache in ("cache", "fresh"):  # from the store built above, and decoding anew
        with pytest.raises(RecordError, match="V2") as err:
            load_dataset("ptbxl", root, strict=True, cache_root=str(tmp_path / cache), progress=False)
        assert "record kept" not in str(err.value) and "--strict stops" in str(err.value)


def test_wrong_lead_count(tmp_path):
    root, path = with_bad(tmp_path)
    write_record(os.path.dirname(path), "A00009", ecg_like(900, 2, 300), 300, ["ECG", "ECG2"], fmt="mat")
    check_skipped(root, tmp_path, "A00009", ["lead count", "2 leads"])


def test_label_code_not_in_mapping(tmp_path):
    root, _ = with_bad(tmp_path, label="X")
    check_skipped(root, tmp_path, "A00009", ["label", "'x'"])
    ptb = write_ptbxl(tmp_path / "p", [{"scp_codes": {"NORM": 100.0}, "fold": 1},
                                       {"scp_codes": {"NOTACODE": 100.0}, "fold": 1}])
    check_skipped(ptb, tmp_path / "p2", "2", ["notacode"], dataset="ptbxl", n_good=1)


def test_reference_row_with_no_files(tmp_path):
    root = write_cinc2017(tmp_path / "d", GOOD)
    with open(os.path.join(root, "training2017", "REFERENCE.csv"), "a") as f:
        f.write("A00042,N\n")
    check_skipped(root, tmp_path, "A00042", ["no files"])


def test_skipped_csv_and_console_count(tmp_path):
    from ecgtf.data.record import SkipLog

    root, path = with_bad(tmp_path)
    os.remove(path + ".mat")
    data = load(root, tmp_path)
    log = SkipLog()
    log.extend(data.skipped.itertuples(index=False, name=None))
    log.write_csv(tmp_path / "out" / "skipped.csv")
    text = (tmp_path / "out" / "skipped.csv").read_text().splitlines()
    assert text[0] == "dataset,record_id,reason" and text[1].startswith("cinc2017,A00009,")
    assert log.summary().startswith("1 records skipped")
    assert np.all(np.isfinite(data.signal(0)))


def test_cinc2020_code_in_neither_mapping_table(tmp_path):
    from data_builders import write_cinc2020_record

    from ecgtf.data.cinc2020 import SCORED_2020
    from ecgtf.data.datasets import load_dataset

    root = tmp_path / "c20"
    scoring = tmp_path / "scoring"
    scoring.mkdir()
    (scoring / "dx_mapping_scored.csv").write_text("Dx,SNOMED CT Code,Abbreviation\natrial fibrillation,164889003,AF\n")
    (scoring / "dx_mapping_unscored.csv").write_text("Dx,SNOMEDCTCode,Abbreviation\nabnormal QRS,164951009,abQRS\n")
    codes = [c for c, _ in SCORED_2020]
    rows = [",".join(["", *codes])] + [",".join([c, *("1" for _ in codes)]) for c in codes]
    (scoring / "weights.csv").write_text("\n".join(rows) + "\n")
    write_cinc2020_record(root, "A0001", ["164889003"])
    write_cinc2020_record(root, "A0002", ["999999999"], seed=2)               # nothing known: skipped
    write_cinc2020_record(root, "A0003", ["164951009", "999999999"], seed=3)  # kept, named in warnings
    data = load_dataset("cinc2020", str(root), cache_root=str(tmp_path / "cache"), scoring_dir=str(scoring),
                        progress=False)
    assert list(data.meta["record_id"]) == ["A0001", "A0003"]
    assert "999999999" in data.skipped.set_index("record_id").loc["A0002", "reason"]
    warned = data.warnings.set_index("record_id")["reason"]
    assert "999999999" in warned["A0003"] and "ignored" in warned["A0003"]
    kept = tmp_path / "kept"  # only the record kept with a warning: --strict stops on it too
    write_cinc2020_record(kept, "A0001", ["164889003"])
    write_cinc2020_record(kept, "A0003", ["164951009", "999999999"], seed=3)
    load_dataset("cinc2020", str(kept), cache_root=str(tmp_path / "cache"), scoring_dir=str(scoring), progress=False)
    for cache in ("cache", "fresh"):  # from the store built above, and decoding anew
        with pytest.raises(RecordError, match="A0003.*999999999.*--strict stops"):
            load_dataset("cinc2020", str(kept), strict=True, cache_root=str(tmp_path / cache),
                         scoring_dir=str(scoring), progress=False)


def test_ptbxl_row_whose_header_is_missing(tmp_path):
    root = write_ptbxl(tmp_path / "d", [{"scp_codes": {"NORM": 100.0}, "fold": 1 + i % 2} for i in range(3)])
    os.remove(os.path.join(root, "records100", "00000", "00002_lr.hea"))
    check_skipped(root, tmp_path, "2", ["missing header file", "00002_lr.hea"], dataset="ptbxl", n_good=2)


def cinc2020_with_bad(tmp_path):
    from data_builders import write_cinc2020_record

    root = tmp_path / "c20"
    for i, rid in enumerate(("A0001", "A0002", "A0003", "A0009")):
        write_cinc2020_record(root, rid, ["164889003"], seed=i)
    return str(root), os.path.join(str(root), "A0009")


def test_cinc2020_signal_without_its_header(tmp_path):
    root, path = cinc2020_with_bad(tmp_path)
    os.remove(path + ".hea")  # the .mat alone: listed, not invisible
    check_skipped(root, tmp_path, "A0009", ["missing header file", "a0009.mat"], dataset="cinc2020")


@pytest.mark.parametrize("garbage, words", [
    (b"A0009 this is not a header\nnonsense\n", ["header does not parse", "record line"]),
    (bytes(range(256)) * 4, ["header does not parse", "not text"]),
    (b"", ["header does not parse", "empty"]),
])
def test_cinc2020_garbage_header_says_so(tmp_path, garbage, words):
    root, path = cinc2020_with_bad(tmp_path)
    with open(path + ".hea", "wb") as f:
        f.write(garbage)
    data = check_skipped(root, tmp_path, "A0009", words, dataset="cinc2020")
    assert "#dx" not in data.skipped.iloc[0]["reason"].lower()


def test_cinc2020_header_without_dx_line(tmp_path):
    root, path = cinc2020_with_bad(tmp_path)
    with open(path + ".hea") as f:
        lines = [line for line in f if "Dx:" not in line]
    with open(path + ".hea", "w") as f:
        f.writelines(lines)
    check_skipped(root, tmp_path, "A0009", ["no '#dx:' line"], dataset="cinc2020")
