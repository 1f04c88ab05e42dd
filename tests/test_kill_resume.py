"""A training killed (SIGKILL) at any point resumes with ``--resume`` and ends as if never killed.

The run goes in a subprocess; the test watches its folder and kills it at a chosen point: in
epoch 1, at an epoch boundary chosen with a seed (every boundary with ``--run-slow``), while
``checkpoint.keras`` is written, and between saving the
final model and writing ``thresholds.json``. After each kill, ``--resume`` must finish all
epochs, ``model.keras`` must be the checkpoint with the prior shift folded in exactly once, and
no file of the run folder may be empty or unreadable.
"""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest

from data_builders import write_cinc2017
from ecgtf.inputs.specs import split_model

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import train as train_script  # noqa: E402

EPOCHS = 4


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kill")
    labels = {f"A{i:05d}": "NNNNAOO~"[i % 8] for i in range(1, 41)}
    return write_cinc2017(tmp / "d", labels, seconds=4.0), str(tmp / "cache")


def _argv(root, cache, out):
    return ["--model", "compact1d", "--option", "filters=[8,8]", "--option", "stem_filters=8", "--dataset",
            "cinc2017", "--data-dir", root, "--cache-dir", cache, "--sampling-rate", "100", "--duration-s", "3",
            "--epochs", str(EPOCHS), "--batch-size", "4", "--out", str(out), "--verbose", "0"]


def _history_rows(run):
    try:
        return len(pd.read_csv(run / "history.csv"))
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return 0


def _after_epoch(k):
    return lambda run: _history_rows(run) >= k


def _in_epoch_1(run, after_s=2.0):
    """``after_s`` after the run wrote its spec (just before fitting), or epoch 1's end if sooner."""
    if (run / "history.csv").exists() or (run / "backup").exists():
        return True
    spec = run / "run_spec.json"
    return spec.exists() and time.time() - spec.stat().st_mtime >= after_s


# The epoch boundary of the default suite, chosen with a seed; the slow variant kills at each one.
BOUNDARY = int(np.random.default_rng(13).integers(1, EPOCHS))
# name -> condition on the run folder at which the process is killed
POINTS = {
    "epoch 1": lambda run: _in_epoch_1(run),
    f"after epoch {BOUNDARY}": _after_epoch(BOUNDARY),
    "checkpoint write": lambda run: (run / "checkpoint.partial.keras").exists(),
    "shift, no thresholds": lambda run: (run / "model.keras").exists() and not (run / "thresholds.json").exists(),
}


def _kill_at(argv, run, condition, timeout_s=240):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "train.py"), *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if condition(run):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.005)
        return False  # finished (or timed out) before the point came
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _bias(path):
    return split_model(keras.models.load_model(str(path), compile=False))[1].get_layer("predictions").get_weights()[1]


def _check_finished(run):
    assert len(pd.read_csv(run / "history.csv")) == EPOCHS
    for name in os.listdir(run):
        path = run / name
        if path.is_file():
            assert path.stat().st_size > 0, f"{name} is empty"
            assert not name.endswith(".partial.keras"), f"{name} left behind"
    shift = np.asarray(json.loads((run / "thresholds.json").read_text())["prior_shift"])
    np.testing.assert_allclose(_bias(run / "model.keras"), _bias(run / "checkpoint.keras") + shift, atol=1e-6)
    json.loads((run / "metrics.json").read_text())


def _check_whole(run):
    """Every file of the run folder, as a kill left it, is whole (temporary ``.partial`` names aside)."""
    for folder, _, names in os.walk(run):
        for name in names:
            path = os.path.join(folder, name)
            if ".partial" not in name and "tensorboard" not in folder:
                assert os.path.getsize(path) > 0, f"{os.path.relpath(path, run)} is empty after the kill"
                if name.endswith(".csv"):
                    pd.read_csv(path)
                elif name.endswith(".json"):
                    json.loads(open(path).read())


def _kill_and_resume(skewed, run, point, condition):
    root, cache = skewed
    if not _kill_at(_argv(root, cache, run), run, condition):
        pytest.skip(f"the run finished before '{point}' could be caught on this machine")
    _check_whole(run)
    train_script.main(["--resume", "--out", str(run), "--verbose", "0"])
    _check_finished(run)


@pytest.mark.parametrize("point", list(POINTS))
def test_killed_run_resumes(skewed, tmp_path, point):
    _kill_and_resume(skewed, tmp_path / "run", point, POINTS[point])


@pytest.mark.slow
@pytest.mark.parametrize("epoch", range(1, EPOCHS))
def test_killed_at_every_epoch_boundary_resumes(skewed, tmp_path, epoch):
    _kill_and_resume(skewed, tmp_path / "run", f"after epoch {epoch}", _after_epoch(epoch))


def test_history_csv_is_written_whole(tmp_path):
    from ecgtf.training.trainer import HistoryCSV

    path = tmp_path / "history.csv"
    logger = HistoryCSV(str(path))
    logger.on_train_begin()
    assert not path.exists()  # nothing (not an empty file) before the first epoch ends
    logger.on_epoch_end(0, {"val_auc": np.float32(0.5), "loss": 1.5})
    HistoryCSV(str(path)).on_epoch_end(1, {"loss": 1.0, "val_auc": 0.75})  # a resumed run appends
    hist = pd.read_csv(path)
    assert list(hist.columns) == ["epoch", "loss", "val_auc"] and list(hist["epoch"]) == [0, 1]
    assert list(hist["val_auc"]) == [0.5, 0.75] and sorted(os.listdir(tmp_path)) == ["history.csv"]
