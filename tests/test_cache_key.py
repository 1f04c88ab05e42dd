"""The decoded-record cache notices edited signal files, headers and labels."""

import os

import numpy as np

from data_builders import ecg_like, write_cinc2017
from ecgtf.data.datasets import load_dataset
from ecgtf.data.wfdb_io import write_record


def _load(root, cache):
    return load_dataset("cinc2017", root, task="af4", cache_root=cache, progress=False)


def _touch_later(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_editing_a_signal_file_rebuilds_the_cache(tmp_path):
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 9)}
    root = write_cinc2017(tmp_path / "d", labels)
    cache = str(tmp_path / "cache")
    first = _load(root, cache)
    assert not first.from_cache and len(first) == 8
    assert _load(root, cache).from_cache
    # A NaN lead written into one record's .mat; its header is rewritten identically.
    # The signal of one record is replaced (same length); its header keeps its text and mtime.
    folder = os.path.join(root, "training2017")
    hea = os.path.join(folder, "A00003.hea")
    header, header_stat = open(hea).read(), os.stat(hea)
    new = 3.0 * ecg_like(len(first.signal(2)), 1, 300, seed=99)
    write_record(folder, "A00003", new, 300, ["ECG"], fmt="mat")
    with open(hea, "w") as f:
        f.write(header)
    os.utime(hea, ns=(header_stat.st_atime_ns, header_stat.st_mtime_ns))
    _touch_later(os.path.join(folder, "A00003.mat"))
    again = _load(root, cache)
    assert not again.from_cache  # the store was rebuilt from the edited file
    assert np.abs(again.signal(2) - first.signal(2)).max() > 0.5  # the new signal, not the stale one


def test_editing_a_label_rebuilds_the_cache(tmp_path):
    root = write_cinc2017(tmp_path / "d", {"A00001": "N", "A00002": "A", "A00003": "O", "A00004": "~"})
    cache = str(tmp_path / "cache")
    assert _load(root, cache).labels[0].argmax() == 0
    ref = os.path.join(root, "training2017", "REFERENCE.csv")
    text = open(ref).read().replace("A00001,N", "A00001,A")
    with open(ref, "w") as f:
        f.write(text)
    again = _load(root, cache)
    assert again.labels[0].argmax() == 1


def test_same_size_edit_that_keeps_the_mtime_rebuilds_the_cache(tmp_path):
    root = write_cinc2017(tmp_path / "d", {"A00001": "N", "A00002": "A", "A00003": "O"})
    cache = str(tmp_path / "cache")
    first = _load(root, cache)
    folder = os.path.join(root, "training2017")
    mat, hea = os.path.join(folder, "A00002.mat"), os.path.join(folder, "A00002.hea")
    header, stats = open(hea).read(), {path: os.stat(path) for path in (mat, hea)}
    # The signal rewritten in place with another of the same length, the header with its own text,
    # and both modification times set back: only the status-change time tells.
    write_record(folder, "A00002", 3.0 * ecg_like(len(first.signal(1)), 1, 300, seed=99), 300, ["ECG"], fmt="mat")
    with open(hea, "w") as f:
        f.write(header)
    for path, before in stats.items():
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = _load(root, cache)
    assert not again.from_cache
    assert np.abs(again.signal(1) - first.signal(1)).max() > 0.5
    assert _load(root, cache).from_cache  # and nothing else moves: the next load reuses it
