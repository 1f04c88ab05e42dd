"""CPU inference speed of the raw-signal models: batch-1 latency and batch-N throughput.

Usage::

    python benchmarks/bench_model_speed.py --models ribeiro --repeats 20 --json speed.json

Latency is the median over ``--repeats`` timed calls after ``--warmup`` untimed ones: a direct
(eager) call ``model(x, training=False)``, ``model.predict``, and the call traced once with
``tf.function`` (graph mode, what a serving loop would use). Throughput is
``batch_size / median time`` of one batch, in ECG/s. Random weights; the numbers depend on
the machine and on other processes sharing its cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

from ecgtf.models import get_model, list_models  # noqa: E402

DEFAULT_SHAPES = {"ribeiro": (4096, 12)}  # others: FALLBACK_SHAPE (PTB-XL, 10 s at 100 Hz)
FALLBACK_SHAPE = (1000, 12)
SKIP = ("ribeiro_transfer",)  # needs a pretrained model


def _median_seconds(fn, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def benchmark(name: str, input_shape, num_classes: int = 6, batch_size: int = 32, repeats: int = 20,
              warmup: int = 3) -> dict:
    """Times one model on random input.

    Args:
        name: registry name of a raw model.
        input_shape: ``(samples, leads)``.
        num_classes: outputs.
        batch_size: batch for the throughput measurement.
        repeats: timed repetitions (median reported).
        warmup: untimed repetitions first (tracing, allocation).

    Returns:
        ``{"model", "input_shape", "params", "call_ms_b1", "predict_ms_b1", "graph_ms_b1",
        "call_ecg_per_s", "predict_ecg_per_s", "batch_size"}``.
    """
    model = get_model(name, input_shape, num_classes)
    rng = np.random.default_rng(0)
    x1 = rng.normal(0.0, 0.5, (1, *input_shape)).astype("float32")
    xb = rng.normal(0.0, 0.5, (batch_size, *input_shape)).astype("float32")
    call_b1 = _median_seconds(lambda: model(x1, training=False), repeats, warmup)
    predict_b1 = _median_seconds(lambda: model.predict(x1, verbose=0), repeats, warmup)
    graph_call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    graph_b1 = _median_seconds(lambda: graph_call(x1), repeats, warmup)
    batch_repeats = max(3, repeats // 4)
    call_b = _median_seconds(lambda: model(xb, training=False), batch_repeats, 1)
    predict_b = _median_seconds(lambda: model.predict(xb, batch_size=batch_size, verbose=0), batch_repeats, 1)
    return {
        "model": name, "input_shape": list(input_shape), "params": int(model.count_params()),
        "call_ms_b1": 1e3 * call_b1, "predict_ms_b1": 1e3 * predict_b1,
        "graph_ms_b1": 1e3 * graph_b1,
        "call_ecg_per_s": batch_size / call_b, "predict_ecg_per_s": batch_size / predict_b,
        "batch_size": batch_size,
    }


def _table(rows: list[dict]) -> str:
    header = (f"{'model':<12} {'input':>10} {'params':>10} {'call b1 ms':>11} {'predict b1 ms':>14} "
              f"{'graph b1 ms':>12} {'call ECG/s':>11} {'predict ECG/s':>14}")
    lines = [header, "-" * len(header)]
    for r in rows:
        shape = "x".join(str(s) for s in r["input_shape"])
        lines.append(f"{r['model']:<12} {shape:>10} {r['params']:>10,} {r['call_ms_b1']:>11.1f} "
                     f"{r['predict_ms_b1']:>14.1f} {r['graph_ms_b1']:>12.1f} "
                     f"{r['call_ecg_per_s']:>11.1f} {r['predict_ecg_per_s']:>14.1f}")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    """Parses arguments, times each model, prints a table and optionally writes JSON."""
    raw = [n for n in list_models("raw") if n not in SKIP]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(raw), help=f"comma-separated, from: {', '.join(raw)}")
    parser.add_argument("--input-shape", default=None,
                        help="samples,leads for every model (default 4096,12 for ribeiro, 1000,12 otherwise)")
    parser.add_argument("--num-classes", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    args = parser.parse_args(argv)

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in raw]
    if unknown:
        parser.error(f"unknown models {unknown}; valid: {', '.join(raw)}")
    fixed = tuple(int(s) for s in args.input_shape.split(",")) if args.input_shape else None
    rows = []
    for name in names:
        shape = fixed or DEFAULT_SHAPES.get(name, FALLBACK_SHAPE)
        rows.append(benchmark(name, shape, args.num_classes, args.batch_size, args.repeats, args.warmup))
        keras.backend.clear_session()
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible; "
          f"keras {keras.__version__}")
    print(_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu_count": os.cpu_count(), "keras": keras.__version__, "results": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
