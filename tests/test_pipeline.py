"""The raw tf.data pipeline over a decoded dataset."""

import numpy as np
import pytest

from data_builders import write_cinc2017
from ecgtf.data.datasets import load_dataset
from ecgtf.data.pipeline import make_raw_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipe")
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 11)}
    root = write_cinc2017(tmp / "d", labels, seconds=2.0)
    return load_dataset("cinc2017", root, cache_root=str(tmp / "cache"), progress=False)


def test_shapes_labels_and_weights(data):
    idx = np.arange(len(data))
    ds = make_raw_dataset(data, idx, length=300, batch_size=4, training=False,
                          sample_weights=np.arange(len(data), dtype=np.float32))
    batches = list(ds)
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    x, y, w = batches[0]
    assert x.shape == (4, 300, 1) and y.shape == (4, 4)
    np.testing.assert_array_equal(y.numpy(), data.labels[:4])
    np.testing.assert_array_equal(w.numpy(), [0, 1, 2, 3])
    # Evaluation takes the centre window of each record.
    sig = data.signal(0)
    start = (len(sig) - 300) // 2
    np.testing.assert_allclose(x.numpy()[0], sig[start:start + 300])


def test_training_crops_and_order_change_between_epochs(data):
    idx = np.arange(len(data))
    ds = make_raw_dataset(data, idx, length=300, batch_size=10, training=True, seed=3)
    (x1, y1), (x2, _) = next(iter(ds)), next(iter(ds))
    assert not np.array_equal(x1.numpy(), x2.numpy())
    assert sorted(y1.numpy().argmax(1)) == sorted(data.labels.argmax(1))
    ds_eval = make_raw_dataset(data, idx, length=300, batch_size=10, training=False)
    np.testing.assert_array_equal(next(iter(ds_eval))[0].numpy(), next(iter(ds_eval))[0].numpy())


def test_short_records_are_zero_padded_in_the_centre(data):
    longest = int(data.lengths.max())
    ds = make_raw_dataset(data, [0], length=longest + 100, batch_size=1, training=False)
    x = next(iter(ds))[0].numpy()[0]
    n = len(data.signal(0))
    before = (longest + 100 - n) // 2
    assert x.shape[0] == longest + 100 and not x[:before].any() and not x[before + n:].any()
    np.testing.assert_array_equal(x[before:before + n], data.signal(0))
