"""CPU inference of an exported Ribeiro model through four paths, side by side in one run.

Usage::

    python benchmarks/bench_inference.py --rounds 15 --json benchmarks/results/inference_ribeiro_cpu.json

A Ribeiro run folder is made with random weights (6 outputs, 4096 samples x 12 leads at 400 Hz,
the centre window; ``--run`` takes a trained one instead) and exported with
:func:`ecgtf.serving.export.export_run`. Paths: ``model.predict`` on the run's ``model.keras``; the
same model traced once with ``tf.function`` (and with ``jit_compile=True``, XLA); the SavedModel's
``serving_default`` signature; ONNX Runtime on a ``tf2onnx`` conversion of the traced function
(when tf2onnx and onnxruntime are installed). Every round times each path once, in turn, so the
paths share the machine's load alike; the tables give medians over rounds: batch-1 latency (ms)
and batch-32 throughput (ECG/s), and each path's ratio to ``model.predict``. The largest
difference of each path's probabilities from ``model.predict``'s is checked too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

LEADS = ("DI", "DII", "DIII", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
CLASSES = ("1dAVb", "RBBB", "LBBB", "SB", "AF", "ST")


def make_ribeiro_run(out: str, seed: int = 0) -> str:
    """A run folder of an untrained Ribeiro model (random weights, seeded)."""
    import keras

    from ecgtf import config as cfglib
    from ecgtf.inputs.runspec import RunSpec
    from ecgtf.inputs.specs import input_shape_of, with_prepare
    from ecgtf.models.registry import get_entry

    keras.utils.set_random_seed(seed)
    os.makedirs(out, exist_ok=True)
    spec = RunSpec(model="ribeiro", dataset="synthetic", task="ribeiro6", task_kind="multilabel",
                   class_names=list(CLASSES), sampling_rate=400.0, signal_filter="none", lead_names=list(LEADS),
                   window_samples=4096, eval_hop_samples=None, input_kind="raw", input_options={},
                   standardize=False)
    prepare = spec.build_prepare()
    model = with_prepare(get_entry("ribeiro").builder(input_shape_of(prepare), len(CLASSES)), prepare)
    model.save(os.path.join(out, "model.keras"))
    spec.save(os.path.join(out, "run_spec.json"))
    cfglib.save(cfglib.TrainConfig(model="ribeiro", sampling_rate=400.0, duration_s=10.24),
                os.path.join(out, "config.yaml"))
    with open(os.path.join(out, "thresholds.json"), "w") as f:
        json.dump({"classes": list(CLASSES), "thresholds": [0.5] * len(CLASSES), "prior_shift": None}, f)
    return out


def onnx_session(model, n_leads: int, threads: int):
    """``(session, seconds to convert)``: ONNX Runtime on ``tf2onnx.convert.from_function`` of the
    model's inference call."""
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    start = time.perf_counter()
    spec = (tf.TensorSpec((None, None, n_leads), tf.float32, name="signal_mv"),)
    fn = tf.function(lambda signal_mv: model(signal_mv, training=False))
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, time.perf_counter() - start


def paths(run_dir: str, export_dir: str, with_onnx: bool, threads: int) -> tuple[dict, dict]:
    """``({path: fn(x) -> probabilities}, notes)``."""
    import keras
    import tensorflow as tf

    model = keras.models.load_model(os.path.join(run_dir, "model.keras"), compile=False)
    signature = (tf.TensorSpec((None, None, len(LEADS)), tf.float32),)
    traced = tf.function(lambda x: model(x, training=False), input_signature=signature)
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True, reduce_retracing=True)
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    fns = {
        "model.predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        "tf.function": lambda x: traced(tf.constant(x)).numpy(),
        "tf.function (XLA)": lambda x: xla(tf.constant(x)).numpy(),
        "SavedModel signature": lambda x: serve(signal_mv=tf.constant(x))["probabilities"].numpy(),
    }
    notes = {}
    if with_onnx:
        try:
            session, seconds = onnx_session(model, len(LEADS), threads)
            fns["ONNX Runtime"] = lambda x: session.run(None, {"signal_mv": x})[0]
            notes["onnx_convert_s"] = round(seconds, 1)
        except Exception as err:  # a converter or runtime that does not work here: recorded, skipped
            notes["onnx_error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
    return fns, notes


def measure(fns: dict, batch: int, rounds: int, warmup: int, rng) -> dict:
    """Per path: median seconds per call on a ``(batch, 4096, 12)`` input over ``rounds`` rounds."""
    x = rng.normal(0, 0.3, size=(batch, 4096, len(LEADS))).astype(np.float32)
    for fn in fns.values():
        for _ in range(warmup):
            fn(x)
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", help="a trained Ribeiro run folder (default: random weights)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--no-onnx", action="store_true")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)

    from ecgtf.serving.export import export_run

    tmp = tempfile.mkdtemp(prefix="bench_inference_")
    run_dir = args.run or make_ribeiro_run(os.path.join(tmp, "run"))
    export_dir = export_run(run_dir, os.path.join(tmp, "export"), name="ribeiro")
    threads = os.cpu_count() or 1
    fns, notes = paths(run_dir, export_dir, not args.no_onnx, threads)
    rng = np.random.default_rng(0)
    check = rng.normal(0, 0.3, size=(4, 4096, len(LEADS))).astype(np.float32)
    reference = fns["model.predict"](check)
    max_diff = {name: float(np.abs(fn(check) - reference).max()) for name, fn in fns.items()}
    load_before = os.getloadavg()
    one = measure(fns, 1, args.rounds, args.warmup, rng)
    many = measure(fns, args.batch, args.rounds, args.warmup, rng)
    base1, base_n = one["model.predict"], many["model.predict"]
    rows = {name: {"batch1_latency_ms": round(one[name] * 1e3, 2),
                   f"batch{args.batch}_ecg_per_s": round(args.batch / many[name], 1),
                   "latency_vs_predict": round(one[name] / base1, 3),
                   "throughput_vs_predict": round(base_n / many[name], 3),
                   "max_abs_diff_vs_predict": max_diff[name]} for name in fns}
    result = {"command": "python benchmarks/bench_inference.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": "ribeiro (random weights)" if not args.run else args.run,
              "input": "(batch, 4096, 12) float32 mV at 400 Hz", "rounds": args.rounds,
              "cpu_count": os.cpu_count(), "load_avg_before": [round(v, 2) for v in load_before],
              "load_avg_after": [round(v, 2) for v in os.getloadavg()], "platform": platform.platform(),
              "paths": rows, **notes,
              "note": "medians over rounds, each round timing every path once in turn on the same shared machine"}
    print(f"{'path':24s} {'batch-1 ms':>11s} {f'batch-{args.batch} ECG/s':>15s} {'lat. ratio':>10s} "
          f"{'thr. ratio':>10s} {'max |diff|':>10s}")
    for name, row in rows.items():
        print(f"{name:24s} {row['batch1_latency_ms']:11.2f} {row[f'batch{args.batch}_ecg_per_s']:15.1f} "
              f"{row['latency_vs_predict']:10.3f} {row['throughput_vs_predict']:10.3f} "
              f"{row['max_abs_diff_vs_predict']:10.2e}")
    for key, value in notes.items():
        print(f"{key}: {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
