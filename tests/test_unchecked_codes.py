"""CinC 2020 without the mapping tables: said once at the start, and every record with a code that
could not be checked is in warnings.csv."""

import os
import sys

import pandas as pd
import pytest

from data_builders import write_cinc2020_record
from ecgtf.data.datasets import load_dataset
from ecgtf.data.record import RecordError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import train as train_script  # noqa: E402

AF, NSR, UNSCORED, MADE_UP = "164889003", "426783006", "164951009", "999999999"


def without_tables(root, n_scored=2):
    for i in range(n_scored):
        write_cinc2020_record(root, f"A{i + 1:04d}", [(AF, NSR)[i % 2]], seed=i)
    write_cinc2020_record(root, "A0101", [MADE_UP], seed=101)           # trains as all-negative
    write_cinc2020_record(root, "A0102", [UNSCORED, AF], seed=102)      # one code unchecked
    return str(root)


def test_unchecked_codes_are_warned_and_noted_once(tmp_path):
    root = without_tables(tmp_path / "c20")
    for attempt in ("decoded", "from the cache"):
        notes = []
        data = load_dataset("cinc2020", root, cache_root=str(tmp_path / "cache"), progress=False, say=notes.append)
        assert data.from_cache == (attempt == "from the cache")
        assert len(notes) == 1 and "not checked" in notes[0] and "--scoring-dir" in notes[0], notes
        assert len(data) == 4 and data.skipped.empty
        warned = data.warnings.set_index("record_id")["reason"]
        assert sorted(warned.index) == ["A0101", "A0102"]  # the records with only scored codes were checked
        assert MADE_UP in warned["A0101"] and "not checked" in warned["A0101"]
        assert UNSCORED in warned["A0102"] and AF not in warned["A0102"]
    with pytest.raises(RecordError, match="A0101.*not checked.*--strict stops"):
        load_dataset("cinc2020", root, strict=True, cache_root=str(tmp_path / "cache"), progress=False)


def test_training_without_tables_says_so_first_and_writes_warnings_csv(tmp_path, capsys):
    root = without_tables(tmp_path / "c20", n_scored=8)
    out = tmp_path / "run"
    train_script.main(["--model", "compact1d", "--dataset", "cinc2020", "--data-dir", root, "--cache-dir",
                       str(tmp_path / "cache"), "--sampling-rate", "100", "--epochs", "1", "--batch-size", "4",
                       "--out", str(out), "--verbose", "0"])
    lines = capsys.readouterr().out.splitlines()
    noted = [i for i, line in enumerate(lines) if "label codes are not checked" in line]
    assert len(noted) == 1 and noted[0] == 0, lines[:5]  # once, before anything else
    warnings = pd.read_csv(out / "warnings.csv", dtype=str)
    assert sorted(warnings["record_id"]) == ["A0101", "A0102"]
