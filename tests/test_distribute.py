"""tf.distribute: strategy choice, mirrored = one device, two multi-worker processes agree.

The strategies run in subprocesses (tests/distribute_worker.py), so this process's TensorFlow
context (one CPU device, no cluster) is untouched.
"""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from data_builders import write_cinc2017

WORKER = os.path.join(os.path.dirname(__file__), "distribute_worker.py")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", **extra}


def test_strategy_names_batch_and_chief(monkeypatch):
    from ecgtf.training import distribute

    with pytest.raises(ValueError, match="--strategy must be one of auto, mirrored, multiworker"):
        distribute.make_strategy("ring")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        distribute.make_strategy("multiworker")
    default = distribute.make_strategy("auto")  # one CPU, no cluster: TensorFlow's default strategy
    assert distribute.replicas(default) == 1 and distribute.global_batch_size(16, default) == 16
    assert distribute.is_chief(default) and distribute.writable_dir("/some/run", default) == "/some/run"
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.tf_config()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}}))
    assert distribute.cluster_size() == 2


def test_train_cli_takes_strategy():
    from ecgtf.training.cli import config_from_args

    assert config_from_args(["--model", "compact1d"])[0].strategy == "auto"
    assert config_from_args(["--model", "compact1d", "--strategy", "mirrored"])[0].strategy == "mirrored"
    with pytest.raises(SystemExit):
        config_from_args(["--strategy", "ring"])


def test_mirrored_over_two_cpus_gives_the_one_device_loss(tmp_path):
    out = tmp_path / "m.npz"
    subprocess.run([sys.executable, WORKER, "mirrored", str(out)], check=True, timeout=300, env=_env(),
                   capture_output=True)
    r = np.load(out)
    assert int(r["auto_replicas"]) == 1 and int(r["mirrored_replicas"]) == 2
    assert int(r["mirrored_batch"]) == 2 * int(r["auto_batch"])  # --batch-size is per replica
    np.testing.assert_allclose(r["mirrored_loss"], r["auto_loss"], rtol=1e-5)
    np.testing.assert_allclose(r["mirrored_weights"], r["auto_weights"], atol=1e-5)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _shards(tmp_path) -> str:
    """12 CinC 2017-like records (100 Hz) written as 4 TFRecord shards; returns their folder."""
    from ecgtf.data.datasets import load_dataset
    from ecgtf.data.tfrecord import write_tfrecords

    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 13)}
    root = write_cinc2017(tmp_path / "d", labels, seconds=3.0)
    data = load_dataset("cinc2017", root, sampling_rate=100, cache_root=str(tmp_path / "cache"), progress=False)
    shards = str(tmp_path / "shards")
    write_tfrecords(data, shards, shards=4)
    return shards


def _run_workers(commands: list[list[str]], timeout: int) -> list[str]:
    """Runs one process per command as the workers of a 127.0.0.1 cluster (``TF_CONFIG``);
    returns their stdouts after checking that each exited 0."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(len(commands))]}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                                             "task": {"type": "worker", "index": i}})))
             for i, cmd in enumerate(commands)]
    outputs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            assert p.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return outputs


@pytest.mark.slow  # two TensorFlow processes: ~50 s on the loaded 2-core machine
def test_two_workers_train_from_tfrecord_shards_and_agree(tmp_path):
    shards = _shards(tmp_path)
    run_dir = str(tmp_path / "run")
    outputs = _run_workers([[sys.executable, WORKER, "worker", shards, run_dir]] * 2, timeout=300)
    wrote = [line.split() for out in outputs for line in out.splitlines() if line.startswith("WROTE")]
    assert [w[2:] for w in wrote] == [["worker", "0", "chief=True", "replicas=2"],
                                      ["worker", "1", "chief=False", "replicas=2"]]
    assert wrote[0][1] == run_dir and wrote[1][1] != run_dir  # only the chief writes the run folder
    assert os.listdir(run_dir) == ["weights.npy"]
    chief, other = (np.load(os.path.join(w[1], "weights.npy")) for w in wrote)
    shutil.rmtree(wrote[1][1])
    np.testing.assert_allclose(chief, other, atol=1e-6)  # gradients all-reduced over different shards


@pytest.mark.slow
def test_two_train_py_workers_write_one_run_folder_with_the_same_model(tmp_path):
    """scripts/train.py --strategy multiworker end to end: the chief writes the run folder, the
    other worker a temporary one, and both finish with the same weights."""
    import keras

    import ecgtf.inputs.layers  # noqa: F401  (registers the prepare block's layers)

    shards = _shards(tmp_path)
    run_dir = str(tmp_path / "run")
    train = os.path.join(os.path.dirname(__file__), "..", "scripts", "train.py")
    outputs = _run_workers([[sys.executable, train, "--model", "compact1d", "--option", "filters=[8]", "--option",
                             "stem_filters=8", "--dataset", "cinc2017", "--data-dir", shards, "--cache-dir",
                             str(tmp_path / f"cache{i}"), "--epochs", "2", "--batch-size", "2", "--duration-s", "2",
                             "--out", run_dir, "--verbose", "0", "--strategy", "multiworker"] for i in range(2)],
                           timeout=600)
    folders = [line.split(": ", 1)[1] for out in outputs for line in out.splitlines()
               if line.startswith("run folder: ")]
    assert folders[0] == run_dir and folders[1] != run_dir
    models = [keras.models.load_model(os.path.join(f, "model.keras"), compile=False) for f in folders]
    shutil.rmtree(folders[1])
    # Gradients are all-reduced: the trained weights agree. BatchNorm's moving statistics are each
    # worker's own (synchronized=False), and only the chief's are saved in the run folder.
    for a, b in zip(*([w.numpy() for w in m.trainable_weights] for m in models)):
        np.testing.assert_allclose(a, b, atol=1e-6)
