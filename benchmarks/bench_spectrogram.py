"""Spectrogram pipeline throughput (tf.data vs in-model) against inception_spectrogram's consumption.

Usage:
    python benchmarks/bench_spectrogram.py [--image-size 75 75] [--batch-size 16] [--phase2]

Prints signals/s for the spectrogram computed as a ``tf.data`` batch map and as a
Keras layer inside a model, the training-step and inference signals/s of
``inception_spectrogram`` (random weights) at the same image size, and whether the
spectrogram pipeline is the bottleneck.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _timed(fn, repeats: int) -> float:
    """Seconds per call of ``fn`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def bench_pipeline(x: np.ndarray, sampling_rate: float, image_size, batches: int) -> dict:
    """Signals/s of the spectrogram as a ``tf.data`` map and as an in-model layer."""
    import keras
    import tensorflow as tf

    from ecgtf.data.spectrogram import SpectrogramImage

    fn = SpectrogramImage(sampling_rate, image_size=image_size)
    ds = (tf.data.Dataset.from_tensors(x).repeat(batches).map(fn, num_parallel_calls=tf.data.AUTOTUNE)
          .prefetch(tf.data.AUTOTUNE))

    def run_ds():
        for _ in ds:
            pass

    per_epoch = _timed(run_ds, 2)
    inputs = keras.Input(x.shape[1:])
    layer_model = keras.Model(inputs, SpectrogramImage(sampling_rate, image_size=image_size)(inputs))
    @tf.function
    def call(batch):
        return layer_model(batch, training=False)

    xt = tf.constant(x)
    per_batch = _timed(lambda: call(xt).numpy(), batches)
    n = x.shape[0]
    return {"tf.data map": n * batches / per_epoch, "in-model layer": n / per_batch}


def bench_model(image_size, batch_size: int, steps: int, phase2: bool) -> dict:
    """Seconds per training step (phase 1, optionally phase 2) and inference signals/s."""
    import keras

    from ecgtf.models import get_model
    from ecgtf.models.inception_spectrogram import freeze_backbone, unfreeze_top

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch_size, *image_size, 3)).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)[rng.integers(0, 4, batch_size)]
    model = freeze_backbone(get_model("inception_spectrogram", (*image_size, 3), 4, weights=None))
    results = {}
    phases = [("phase 1 (frozen)", lambda m: m)] + ([("phase 2 (top unfrozen)", unfreeze_top)] if phase2 else [])
    for name, prepare in phases:
        model = prepare(model)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        start = time.perf_counter()
        model.train_on_batch(images, labels)
        results[f"{name} first step incl. tracing, s"] = time.perf_counter() - start
        step = _timed(lambda: model.train_on_batch(images, labels), steps)
        results[f"{name} s/step"] = step
        results[f"{name} train signals/s"] = batch_size / step
    start = time.perf_counter()
    model.predict_on_batch(images)
    results["inference first batch incl. tracing, s"] = time.perf_counter() - start
    results["inference signals/s"] = batch_size / _timed(lambda: model.predict_on_batch(images), steps)
    return results


def main(argv=None) -> dict:
    """Runs the benchmark and prints a table; returns the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sampling-rate", type=float, default=300.0)
    parser.add_argument("--crop-s", type=float, default=9.0, help="raw crop length in seconds")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--image-size", type=int, nargs=2, default=None, help="H W (default: the model's)")
    parser.add_argument("--pipeline-batches", type=int, default=30)
    parser.add_argument("--steps", type=int, default=3, help="timed model steps after the first")
    parser.add_argument("--phase2", action="store_true", help="also time phase-2 training steps")
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args(argv)

    from ecgtf.data.spectrogram import DEFAULT_IMAGE_SIZE
    from ecgtf.models.registry import get_entry

    # The size train.py uses by default for this model.
    options = get_entry("inception_spectrogram").defaults.get("model_options", {})
    trained = options.get("image_size", DEFAULT_IMAGE_SIZE)
    image_size = tuple(args.image_size or trained)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch_size, int(args.crop_s * args.sampling_rate), 1)).astype(np.float32)
    results = {f"spectrogram {k} signals/s": v
               for k, v in bench_pipeline(x, args.sampling_rate, image_size, args.pipeline_batches).items()}
    if not args.skip_model:
        results.update(bench_model(image_size, args.batch_size, args.steps, args.phase2))
    print(f"image {image_size[0]}x{image_size[1]}, batch {args.batch_size}, crop {args.crop_s} s "
          f"at {args.sampling_rate:g} Hz")
    for key, value in results.items():
        print(f"  {key:48s} {value:10.2f}")
    if not args.skip_model:
        pipeline = min(results["spectrogram tf.data map signals/s"], results["spectrogram in-model layer signals/s"])
        train = min(v for k, v in results.items() if k.endswith("train signals/s"))
        verdict = "IS" if pipeline < train else "is NOT"
        print(f"spectrogram pipeline {verdict} the bottleneck ({pipeline:.0f} vs {train:.1f} signals/s trained)")
    return results


if __name__ == "__main__":
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
    main()
