"""Subprocess side of tests/test_distribute.py (run as a script; each case in a fresh process).

``mirrored OUT``: a small network trained 3 steps on one device and under ``--strategy mirrored``
over 2 logical CPUs, same global batch; writes both losses and weights to OUT (.npz).

``worker SHARDS RUN_DIR``: one worker of a ``TF_CONFIG`` cluster (set by the test): 4 steps of
``MultiWorkerMirroredStrategy`` training on TFRecord shards streamed by file; writes its weights
where :func:`ecgtf.training.distribute.writable_dir` says and prints that folder.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def tiny_network(n_leads: int, n_out: int, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, n_leads))
    x = keras.layers.Conv1D(4, 5, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(n_out, activation="softmax")(x))


def compile_(model):
    import keras

    from ecgtf.training.trainer import compile_model
    from ecgtf.config import TrainConfig
    from ecgtf.data.tasks import Task

    task = Task("t", ("a", "b", "c"), "multiclass", "accuracy")
    compile_model(model, task, TrainConfig(optimizer="sgd"), 0.05)
    assert isinstance(model.optimizer, keras.optimizers.SGD)


def mirrored(out: str) -> None:
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from ecgtf.training import distribute

    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 64, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 24)]
    results = {}
    for name in ("auto", "mirrored"):
        strategy = distribute.make_strategy(name)
        batch = distribute.global_batch_size(4, strategy)  # 4 per replica
        with strategy.scope():
            model = tiny_network(2, 3)
        compile_(model)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)  # the same global batch for both
        history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
        results[f"{name}_loss"] = np.asarray(history.history["loss"])
        results[f"{name}_replicas"] = np.asarray(distribute.replicas(strategy))
        results[f"{name}_batch"] = np.asarray(batch)
        results[f"{name}_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
    np.savez(out, **results)


def worker(shards: str, run_dir: str) -> None:
    import numpy as np

    from ecgtf.training import distribute

    strategy = distribute.make_strategy("multiworker")  # before any other TF op
    from ecgtf.data.tfrecord import read_info, stream_dataset

    info = read_info(shards)
    with strategy.scope():
        model = tiny_network(len(info["lead_names"]), info["label_size"])
    compile_(model)
    batch = distribute.global_batch_size(2, strategy)
    ds = stream_dataset(shards, length=200, batch_size=batch, training=True, seed=1).repeat()
    model.fit(ds, epochs=1, steps_per_epoch=4, verbose=0)
    out = distribute.writable_dir(run_dir, strategy)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "weights.npy"), np.concatenate([w.ravel() for w in model.get_weights()]))
    kind, index = distribute.task_of(strategy)
    print(f"WROTE {out} {kind} {index} chief={distribute.is_chief(strategy)} replicas={distribute.replicas(strategy)}")


if __name__ == "__main__":
    {"mirrored": mirrored, "worker": worker}[sys.argv[1]](*sys.argv[2:])
