"""TFRecord shards: written from a dataset, read back identically, streamed, and trained on."""

import json
import os
import sys

import numpy as np
import pytest

from data_builders import write_cinc2017

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import to_tfrecord  # noqa: E402


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tfr")
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 13)}
    root = write_cinc2017(tmp / "d", labels, seconds=3.0)
    out = str(tmp / "shards")
    to_tfrecord.main(["--dataset", "cinc2017", "--data-dir", root, "--sampling-rate", "100", "--out", out,
                      "--shards", "3", "--cache-dir", str(tmp / "cache")])
    return root, out, str(tmp / "cache")


def test_shards_hold_the_decoded_records_and_labels(shards):
    from ecgtf.data.datasets import load_dataset

    root, out, cache = shards
    info = json.loads(open(os.path.join(out, "tfrecords.json")).read())
    assert len(info["shards"]) == 3 and info["n_records"] == 12 and info["sampling_rate"] == 100.0
    assert all(os.path.isfile(os.path.join(out, s)) for s in info["shards"])
    original = load_dataset("cinc2017", root, sampling_rate=100, cache_root=cache, progress=False)
    again = load_dataset("cinc2017", out, cache_root=cache, progress=False)  # the TFRecord folder as --data-dir
    assert again.task == original.task and again.sampling_rate == 100.0
    order = [list(again.meta["record_id"]).index(r) for r in original.meta["record_id"]]
    np.testing.assert_array_equal(again.labels[order], original.labels)
    for i, j in enumerate(order):
        np.testing.assert_array_equal(again.signal(j), original.signal(i))


def test_stream_dataset_gives_windows_and_labels_from_every_shard(shards):
    from ecgtf.data.tfrecord import stream_dataset

    _, out, _ = shards
    batches = list(stream_dataset(out, length=250, batch_size=5, training=False))
    x = np.concatenate([b[0].numpy() for b in batches])
    y = np.concatenate([b[1].numpy() for b in batches])
    assert x.shape == (12, 250, 1) and y.shape == (12, 4)
    assert np.all(y.sum(axis=1) == 1)
    from ecgtf.data.datasets import load_dataset
    from ecgtf.data.transforms import pad_or_crop

    again = load_dataset("cinc2017", out, cache_root=shards[2], progress=False)
    expected = {pad_or_crop(again.signal(i), 400).tobytes() for i in range(len(again))}
    centre = next(iter(stream_dataset(out, length=400, batch_size=12, training=False)))[0].numpy()
    assert {w.tobytes() for w in centre} == expected  # shorter records zero-padded in the centre, as pad_or_crop
    train = next(iter(stream_dataset(out, length=250, batch_size=12, training=True)))[0].numpy()
    assert train.shape == (12, 250, 1) and np.isfinite(train).all()


def test_train_reads_a_tfrecord_folder(shards, tmp_path):
    import train as train_script

    _, out, cache = shards
    result = train_script.main(["--model", "compact1d", "--option", "filters=[8]", "--option", "stem_filters=8",
                                "--dataset", "cinc2017", "--data-dir", out, "--cache-dir", cache, "--epochs", "1",
                                "--batch-size", "4", "--duration-s", "2", "--out", str(tmp_path / "run"),
                                "--verbose", "0"])
    assert result.metrics["n_records"] == 3
    assert os.path.isfile(tmp_path / "run" / "model.keras")


def test_a_tfrecord_folder_of_another_task_is_refused(shards):
    from ecgtf.data.datasets import load_dataset

    _, out, cache = shards
    with pytest.raises(ValueError, match="labelled for task 'af4'"):
        load_dataset("cinc2017", out, task="other", cache_root=cache, progress=False)


def test_a_rewritten_shard_rebuilds_the_record_cache(shards, tmp_path):
    """The cache key holds each shard's size and mtime: new shards under the same record ids are decoded anew."""
    from ecgtf.data.datasets import load_dataset

    root, out, _ = shards
    cache = str(tmp_path / "cache")
    first = load_dataset("cinc2017", out, cache_root=cache, progress=False)
    assert load_dataset("cinc2017", out, cache_root=cache, progress=False).from_cache
    shard = os.path.join(out, json.loads(open(os.path.join(out, "tfrecords.json")).read())["shards"][0])
    st = os.stat(shard)
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = load_dataset("cinc2017", out, cache_root=cache, progress=False)
    assert not again.from_cache and len(again) == len(first)
