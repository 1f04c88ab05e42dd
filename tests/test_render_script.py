"""``scripts/render.py``: PNGs with a manifest, a run killed midway that resumes with no
half-written PNG, and one-line errors."""

import os
import signal
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np
import pandas as pd
import pytest

from data_builders import write_cinc2017, write_ptbxl
from ecgtf.errors import run_cli
from ecgtf.render.manifest import load_image, manifest_labels, read_manifest, read_settings
from ecgtf.render.opencv_renderer import render_leads, render_printout
from ecgtf.render.paper import PaperStyle
from ecgtf.render.photo import augment_photo, get_preset, image_seed

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCRIPT = os.path.join(ROOT, "scripts", "render.py")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import render as render_script  # noqa: E402

CODES = [{"NORM": 100.0}, {"IMI": 100.0}, {"NDT": 100.0}, {"ASMI": 80.0}]


@pytest.fixture(scope="module")
def ptbxl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    records = [{"scp_codes": CODES[i % 4], "fold": 1 + i % 10} for i in range(40)]
    return write_ptbxl(tmp / "ptbxl", records, seconds=10.0), str(tmp / "cache")


def _argv(data, out, *extra):
    root, cache = data
    return ["--dataset", "ptbxl", "--data-dir", root, "--cache-dir", cache, "--task", "mi_vs_norm",
            "--out", str(out), "--no-progress", *extra]


def _pngs(out):
    folder = os.path.join(out, "images")
    return sorted(f for f in os.listdir(folder) if f.endswith(".png") and ".partial." not in f)


def test_render_writes_pngs_and_manifest(ptbxl, tmp_path):
    out = tmp_path / "out"
    summary = render_script.main(_argv(ptbxl, out, "--limit", "6", "--dpi", "50"))
    assert summary.rendered == 6 and summary.already_done == 0
    df = read_manifest(str(out))
    assert len(df) == 6 and list(df.columns) == ["record_id", "labels", "y_MI", "fold", "path"]
    # mi_vs_norm keeps NORM (0) and MI (1) records; NDT records are not in the task
    assert set(df["labels"]) == {"NORM", "MI"}
    assert np.array_equal(manifest_labels(df)[:, 0], (df["labels"] == "MI").to_numpy())
    assert df["fold"].between(1, 10).all()
    settings = read_settings(str(out))
    assert settings["class_names"] == ["MI"] and settings["layout"] == "3x4"
    from ecgtf.data.datasets import load_dataset

    data = load_dataset("ptbxl", ptbxl[0], task="mi_vs_norm", cache_root=ptbxl[1], progress=False)
    first = load_image(df["path"][0])
    expected = render_printout(data.signal(0), data.sampling_rate, data.lead_names, "3x4", PaperStyle(dpi=50))
    assert np.array_equal(first, expected)  # PNG is lossless: the renderer's pixels
    # the lead layout: one PNG per record, the lead images one above the other, each lead
    # photographed on its own (seeded from the run's seed, the record id and the lead)
    lead_out = tmp_path / "leads"
    render_script.main(_argv(ptbxl, lead_out, "--limit", "2", "--dpi", "40", "--layout", "lead", "--augment",
                             "shadows_perspective", "--seed", "4"))
    images = load_image(read_manifest(str(lead_out))["path"][0], n_leads=12)
    leads = render_leads(data.signal(0), data.sampling_rate, data.lead_names, PaperStyle(dpi=40))
    assert images.shape == leads.shape
    record_seed = image_seed(4, zlib.crc32(df["record_id"][0].encode()))
    cfg = get_preset("shadows_perspective")
    for k in range(12):
        assert np.array_equal(images[k], augment_photo(leads[k], cfg, image_seed(record_seed, k))), k


def test_killed_midway_resumes_without_half_written_png(ptbxl, tmp_path):
    out = tmp_path / "killed"
    argv = _argv(ptbxl, out, "--dpi", "150", "--augment", "default", "-j", "2")
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, SCRIPT, *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if os.path.isdir(out / "images") and len(_pngs(out)) >= 3:
                break
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(1.5)  # the workers notice their parent is gone (they check every 0.5 s) and stop
    before = _pngs(out)
    total = len(_task_records(ptbxl))
    assert 3 <= len(before) < total, f"not killed midway ({len(before)} of {total})"
    assert not os.path.exists(out / "manifest.csv")  # written only when a run finishes
    for name in before:  # every PNG that exists is whole
        assert cv2.imread(str(out / "images" / name)) is not None, name
    (out / "images" / "stale.partial.png").write_bytes(b"\x89PNG half")  # as a kill mid-write leaves
    stamps = {n: os.stat(out / "images" / n).st_mtime_ns for n in before}

    summary = render_script.main(argv[:-2] + ["-j", "1"])
    assert summary.already_done == len(before) and summary.rendered == total - len(before)
    after = _pngs(out)
    assert len(after) == total and not [f for f in os.listdir(out / "images") if ".partial." in f]
    assert all(os.stat(out / "images" / n).st_mtime_ns == t for n, t in stamps.items())  # not redone
    df = read_manifest(str(out))
    assert len(df) == total
    shapes = {cv2.imread(p).shape for p in df["path"]}
    assert len(shapes) == 1
    # a record rendered by the killed run's worker and one of the resumed run are seeded alike:
    # rendering the whole folder afresh gives the same pixels
    fresh = tmp_path / "fresh"
    render_script.main(_argv(ptbxl, fresh, "--dpi", "150", "--augment", "default", "--limit", "2"))
    for name in _pngs(fresh):
        assert np.array_equal(cv2.imread(str(fresh / "images" / name)), cv2.imread(str(out / "images" / name)))


def _task_records(data):
    from ecgtf.data.datasets import load_dataset

    return load_dataset("ptbxl", data[0], task="mi_vs_norm", cache_root=data[1], progress=False).meta


def test_rerun_with_other_settings_and_bad_input_give_one_line(ptbxl, tmp_path, capsys):
    out = tmp_path / "o"
    assert run_cli(render_script.main, _argv(ptbxl, out, "--limit", "2", "--dpi", "30")) == 0
    capsys.readouterr()
    assert run_cli(render_script.main, _argv(ptbxl, out, "--limit", "2", "--dpi", "30", "--layout", "stack")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a render made with other settings (layout changed)" in err[0]

    cinc = write_cinc2017(tmp_path / "c", {"A00001": "N", "A00002": "A"})
    argv = ["--dataset", "cinc2017", "--data-dir", cinc, "--cache-dir", str(tmp_path / "cache"), "--layout", "3x4",
            "--out", str(tmp_path / "c_out"), "--no-progress"]
    assert run_cli(render_script.main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: layout 3x4 cannot be drawn from cinc2017's leads")
    assert run_cli(render_script.main, argv[:-5] + ["--layout", "stack", "--out", str(tmp_path / "c2"),
                                                    "--no-progress"]) == 0
    assert len(read_manifest(str(tmp_path / "c2"))) == 2

    assert run_cli(render_script.main, _argv((str(tmp_path / "nowhere"), ptbxl[1]), tmp_path / "x")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    with pytest.raises(FileNotFoundError, match="no manifest.csv in"):
        read_manifest(str(tmp_path / "x"))


def test_record_that_cannot_render_is_listed(ptbxl, tmp_path, monkeypatch):
    from ecgtf.render import batch, worker

    real = worker.render_printout

    def broken(signal_mv, *args, **kwargs):
        if np.asarray(signal_mv)[0, 0] == broken.first:
            raise ValueError("synthetic failure")
        return real(signal_mv, *args, **kwargs)

    from ecgtf.data.datasets import load_dataset

    data = load_dataset("ptbxl", ptbxl[0], task="mi_vs_norm", cache_root=ptbxl[1], progress=False)
    broken.first = float(data.signal(1)[0, 0])
    monkeypatch.setattr(worker, "render_printout", broken)
    summary = batch.render_dataset(data, str(tmp_path / "b"), batch.RenderConfig(dpi=30, limit=3), progress=False)
    assert summary.failed == 1 and summary.rendered == 2
    skipped = pd.read_csv(tmp_path / "b" / "skipped.csv", dtype=str)
    assert list(skipped["record_id"]) == [data.meta["record_id"][1]]
    assert "synthetic failure" in skipped["reason"][0]
    assert len(read_manifest(str(tmp_path / "b"))) == 2
