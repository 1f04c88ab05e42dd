"""``--strategy``: which ``tf.distribute`` strategy trains, how large its batches are, who writes.

* ``auto``: ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names more than one task,
  ``MirroredStrategy`` when the machine has more than one GPU, else TensorFlow's default
  (one device, no wrapping).
* ``mirrored``: ``MirroredStrategy`` over the local GPUs (the logical CPU devices when there is
  no GPU: one, unless ``tf.config.set_logical_device_configuration`` made more).
* ``multiworker``: ``MultiWorkerMirroredStrategy`` configured from ``TF_CONFIG`` (the cluster's
  ``worker`` addresses and this process's ``task``), which must be set.

``--batch-size`` is per replica: the global batch is ``batch_size * replicas``
(:func:`global_batch_size`). Only the chief writes the run folder; the other workers write
into temporary folders (:func:`writable_dir`), seeded with a copy of the run folder on
``--resume`` so that every worker restores the same backup. The multi-worker strategy must be
created before the process runs any other TensorFlow op, so :func:`make_strategy` comes first.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

STRATEGIES = ("auto", "mirrored", "multiworker")


def tf_config() -> dict:
    """The parsed ``TF_CONFIG`` environment variable (``{}`` when unset).

    Raises:
        ValueError: it is set but is not JSON.
    """
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err})") from None


def cluster_size(config: dict | None = None) -> int:
    """Number of tasks (chief and workers) that ``TF_CONFIG`` lists."""
    cluster = (tf_config() if config is None else config).get("cluster", {})
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def make_strategy(name: str = "auto"):
    """The ``tf.distribute`` strategy for ``--strategy name`` (see the module docstring).

    Raises:
        ValueError: an unknown name, or ``multiworker`` without a ``TF_CONFIG`` cluster.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    config = tf_config()
    if name == "multiworker" or (name == "auto" and cluster_size(config) > 1):
        if cluster_size(config) < 1 or "task" not in config:
            raise ValueError("--strategy multiworker needs TF_CONFIG with a cluster and this process's task, e.g. "
                             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}')
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _patch_keras_symbolic_build()
        return strategy
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        devices = gpus or tf.config.list_logical_devices("CPU")  # the CPU(s) when there is no GPU
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()


def replicas(strategy) -> int:
    return int(strategy.num_replicas_in_sync)


def global_batch_size(per_replica: int, strategy) -> int:
    """The batch ``tf.data`` makes: ``per_replica`` examples for every replica in sync."""
    return int(per_replica) * replicas(strategy)


def task_of(strategy) -> tuple[str | None, int | None]:
    """``(task type, index)`` of this process in a multi-worker cluster, ``(None, None)`` otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return None, None
    return resolver.task_type, int(resolver.task_id or 0)


def is_chief(strategy) -> bool:
    """Whether this process writes the run folder: the ``chief`` task, or worker 0 of a cluster
    without one, or a single-process run."""
    kind, index = task_of(strategy)
    if kind is None:
        return True
    has_chief = "chief" in (tf_config().get("cluster") or {})
    return kind == "chief" or (kind == "worker" and index == 0 and not has_chief)


def writable_dir(run_dir: str, strategy, resume: bool = False) -> str:
    """Where this process writes: ``run_dir`` for the chief, a fresh temporary folder for any
    other worker (a copy of ``run_dir`` when resuming, so it restores the chief's backup)."""
    if is_chief(strategy):
        return run_dir
    kind, index = task_of(strategy)
    tmp = tempfile.mkdtemp(prefix=f"ecgtf-{kind}{index}-")
    if resume and os.path.isdir(run_dir):
        shutil.copytree(run_dir, tmp, dirs_exist_ok=True)
    return tmp


def _patch_keras_symbolic_build() -> None:
    """Lets ``Model.fit`` run under ``MultiWorkerMirroredStrategy`` (Keras 3.15, TF 2.21; ``keras<3.16``
    is pinned). Two places of Keras's TensorFlow trainer fail across workers (keras-team/keras
    issue 20585):

    * before the first step it reduces one distributed ``(x, y)`` batch across workers only to
      learn its shapes, and ``strategy.reduce`` of that nested batch fails ("Attempt to convert a
      value (PerReplica...)"): the shapes are taken from this worker's first local replica instead;
    * each step's logged scalars are averaged with ``reduce("MEAN", axis=0)``, which fails on
      scalars: they are averaged over all replicas without an axis.

    The training step itself (gradients all-reduced across workers) is untouched. Idempotent.
    """
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    if getattr(tf_trainer, "_ecgtf_patched", False):
        return

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return value.values[0]
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(local, next(it))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    original_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            def mean(v):
                rank = local(v).shape.rank
                return strategy.reduce("MEAN", v, axis=0 if rank else None)

            return tree.map_structure(mean, values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    tf_trainer._ecgtf_patched = True
