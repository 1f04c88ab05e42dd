#!/usr/bin/env python
"""Printouts on the real PTB-XL records: input throughput, quality, robustness to photos.

    python benchmarks/bench_printout_quality.py throughput --records 200
    python benchmarks/bench_printout_quality.py quality --runs runs/printout2 --earlier-runs runs/printout

``throughput``: the same training records read by the two image sources of
:func:`ecgtf.data.images.make_image_dataset`, side by side in one process (alternating passes,
best of ``--repeats``): rendered on the fly in ``tf.data`` (``source=render``) and decoded from
the PNGs of a folder written by ``scripts/render.py`` (``source=FOLDER``), both through the
run's ``prepare`` block. Writes ``benchmarks/results/printout_throughput.json``.

``quality``: scores finished printout runs (trained with the commands listed in
``EXPERIMENTS``; folds 1-6 train, 7 selects, 8 tests) on fold 8 as trained and with the
``shadows_perspective`` photo preset applied to every test printout (seed 8 as in the first
round, and seeds 9 and 10 next to it), and reads each run's
training time and per-image training throughput from its log. Writes
``benchmarks/results/printout_quality.json``.
"""

import argparse
import json
import os
import re
import shlex
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA = "../shared/data/ptbxl"
COMMON = ["--dataset", "ptbxl", "--data-dir", DATA, "--sampling-rate", "100", "--signal-filter", "bandpass",
          "--train-folds", "1-6", "--val-folds", "7", "--test-folds", "8", "--verbose", "2"]
# name -> train.py argv (after COMMON) and the test score compared with its target.
ROBUST = ["--option", "photo_augment=shadows_perspective_often", "--option", "illumination=flatten",
          "--option", "unzoom=true"]
EXPERIMENTS = {
    "superdiagnostic_convlstm": (["--model", "convlstm_leads", "--task", "superdiagnostic", "--epochs", "15",
                                  "--batch-size", "16", "--option", "image_size=[32,192]"], "macro_auc", 0.85),
    "mi_vs_norm_mobilenet_robust": (["--model", "mobilenetv3_small_custom", "--task", "mi_vs_norm", "--epochs", "20",
                                     "--batch-size", "32", "--option", "image_size=[160,320]", *ROBUST], "auc", 0.90),
    "mi_vs_norm_convlstm_robust": (["--model", "convlstm_leads", "--task", "mi_vs_norm", "--epochs", "12",
                                    "--batch-size", "16", "--option", "image_size=[32,192]", *ROBUST], "auc", 0.90),
    # the same as mi_vs_norm_mobilenet_robust without illumination=flatten: what the flattening buys
    "mi_vs_norm_mobilenet_robust_noflatten": (["--model", "mobilenetv3_small_custom", "--task", "mi_vs_norm",
                                               "--epochs", "20", "--batch-size", "32", "--option",
                                               "image_size=[160,320]", *ROBUST[:2], "--option", "illumination=none",
                                               *ROBUST[4:]], "auc", 0.90),
}
#: The first round of issue 14 (``--runs runs/printout``), kept in the results as ``earlier``.
EARLIER_EXPERIMENTS = {
    "mi_vs_norm_mobilenet": (["--model", "mobilenetv3_small_custom", "--task", "mi_vs_norm", "--epochs", "10",
                              "--batch-size", "32", "--option", "image_size=[160,320]",
                              "--option", "photo_augment=default"], "auc", 0.90),
    "mi_vs_norm_convlstm": (["--model", "convlstm_leads", "--task", "mi_vs_norm", "--epochs", "10",
                             "--batch-size", "16", "--option", "image_size=[32,192]"], "auc", 0.80),
    "superdiagnostic_mobilenet": (["--model", "mobilenetv3_small_custom", "--task", "superdiagnostic",
                                   "--epochs", "6", "--batch-size", "32", "--option", "image_size=[160,320]",
                                   "--option", "photo_augment=default"], "macro_auc", 0.85),
}
ROBUSTNESS_PRESET = "shadows_perspective"
#: Seeds of the photographed test printouts: the first gives the headline figure (as in the first
#: round); the others show how much one draw of shadows and warps moves it.
PHOTO_SEEDS = (8, 9, 10)


def _command(experiments: dict, name: str, runs: str) -> str:
    argv = experiments[name][0] + COMMON + ["--out", os.path.join(runs, name)]
    return "python scripts/train.py " + " ".join(shlex.quote(a) for a in argv)


def _fit_seconds(log: str) -> tuple[list[float], float | None]:
    """Seconds of each epoch's ``fit`` pass (Keras' ``N/N - 12s - ...`` lines) and the run's total."""
    text = open(log).read()
    epochs = [float(s) for s in re.findall(r"^\d+/\d+ - (\d+)s - ", text, flags=re.M)]
    total = re.search(r"run took (\d+) s", text)
    return epochs, float(total.group(1)) if total else None


def quality(runs: str, out: str, earlier_runs: str | None = None) -> dict:
    results = {"command": "python benchmarks/bench_printout_quality.py quality --runs " + runs
               + (f" --earlier-runs {earlier_runs}" if earlier_runs else ""),
               "runs": score_runs(EXPERIMENTS, runs)}
    if earlier_runs:
        results["earlier"] = {"note": "issue 14, first round: photo_augment default or none, no illumination "
                                      "flattening, no unzoom", "runs": score_runs(EARLIER_EXPERIMENTS, earlier_runs)}
    _write(results, out)
    return results


def _score_key(photo: str, seed: int) -> str:
    return photo if photo == "none" or seed == PHOTO_SEEDS[0] else f"{photo}_seed{seed}"


def score_runs(experiments: dict, runs: str) -> dict:
    """Fold-8 scores of the finished runs of ``experiments`` under ``runs``, clean and photographed."""
    from sklearn.metrics import roc_auc_score

    from ecgtf.data.images import predict_images
    from ecgtf.inputs.runspec import load_run_data
    from ecgtf.training.saved import load_run
    from ecgtf.training.splits import split_run

    results = {}
    for name, (_, key, target) in experiments.items():
        run_dir = os.path.join(runs, name)
        if not os.path.isfile(os.path.join(run_dir, "test_metrics.json")):
            print(f"{name}: not finished ({run_dir})")
            continue
        run = load_run(run_dir)
        data = load_run_data(run.cfg)
        test = split_run(data, run.cfg)["test"]
        y = data.labels[test]
        scores = {}
        for photo, seed in (("none", PHOTO_SEEDS[0]), *((ROBUSTNESS_PRESET, s) for s in PHOTO_SEEDS)):
            start = time.perf_counter()
            prob = predict_images(run.model, data, test, run.spec, photo=photo, seed=seed)
            seconds = time.perf_counter() - start
            per_class = [roc_auc_score(y[:, c], prob[:, c]) for c in range(y.shape[1])]
            scores[_score_key(photo, seed)] = {key: float(np.mean(per_class)),
                                               "per_class_auc": dict(zip(run.spec.class_names, map(float, per_class))),
                                               "predict_images_per_s": len(test) / seconds}
        with open(os.path.join(run_dir, "test_metrics.json")) as f:
            saved = json.load(f)
        epochs, total = _fit_seconds(os.path.join(runs, f"{name}.log"))
        n_train = len(split_run(data, run.cfg)["train"])
        clean, photo = scores["none"][key], scores[ROBUSTNESS_PRESET][key]
        by_seed = {str(s): scores[_score_key(ROBUSTNESS_PRESET, s)][key] for s in PHOTO_SEEDS}
        mean_photo = float(np.mean(list(by_seed.values())))
        results[name] = {
            "command": _command(experiments, name, runs), "task": run.spec.task, "model": run.spec.model,
            "input_options": run.spec.input_options, "train_records": n_train, "test_records": int(len(test)),
            f"test_{key}": clean, f"test_{key}_run_report": saved.get(key), "target": target, "met": clean >= target,
            f"test_{key}_{ROBUSTNESS_PRESET}": photo, "robustness_loss": clean - photo,
            "robustness_met": clean - photo <= 0.03, "robustness_loss_mean_over_seeds": clean - mean_photo,
            f"test_{key}_{ROBUSTNESS_PRESET}_by_seed": by_seed,
            "per_class_auc": scores["none"]["per_class_auc"],
            "per_class_auc_photo": scores[ROBUSTNESS_PRESET]["per_class_auc"],
            "train_seconds_total": total, "fit_seconds_per_epoch": epochs,
            "train_images_per_s": n_train / float(np.median(epochs)) if epochs else None,
            "history": _history(run_dir),
        }
        print(f"{name}: test {key} {clean:.3f} (target {target}), with {ROBUSTNESS_PRESET} {photo:.3f} "
              f"(seeds {PHOTO_SEEDS}: mean {mean_photo:.3f})")
    return results


def _history(run_dir: str) -> list:
    import pandas as pd

    hist = pd.read_csv(os.path.join(run_dir, "history.csv"))
    return [{k: round(float(v), 4) for k, v in row.items()} for _, row in hist.iterrows()]


def throughput(records: int, repeats: int, folder: str, out: str, batch_size: int = 32) -> dict:
    import render as render_script  # scripts/render.py

    from ecgtf.data.datasets import load_dataset
    from ecgtf.data.images import make_image_dataset
    from ecgtf.inputs.specs import ImageOptions, build_prepare

    data = load_dataset("ptbxl", DATA, task="mi_vs_norm", sampling_rate=100, signal_filter="bandpass")
    options = ImageOptions(image_size=(160, 320))
    render_argv = ["--dataset", "ptbxl", "--data-dir", DATA, "--task", "mi_vs_norm", "--layout", options.layout,
                   "--dpi", str(options.dpi), "--sampling-rate", "100", "--signal-filter", "bandpass",
                   "--limit", str(records), "--out", folder, "-j", "2", "--no-progress"]
    start = time.perf_counter()
    render_script.main(render_argv)
    render_seconds = time.perf_counter() - start
    from ecgtf.render.manifest import read_manifest

    ids = set(read_manifest(folder)["record_id"].astype(str))
    idx = np.flatnonzero(data.meta["record_id"].astype(str).isin(ids).to_numpy())
    prepare = build_prepare("image", options, sampling_rate=100, window_samples=1000, n_leads=12, standardize=False)
    import dataclasses

    sources = {"render": (options, False), "folder": (dataclasses.replace(options, source=folder), False),
               "render_kept_in_memory": (options, True)}
    kept = make_image_dataset(data, idx, options=options, window_samples=1000, batch_size=batch_size,
                              training=False, keep_in_memory=True).map(lambda x, y: (prepare(x), y))
    for _ in kept:  # the first epoch renders; later epochs read what it kept
        pass
    rates = {k: [] for k in sources}
    for _ in range(repeats):
        for name, (opts, keep) in sources.items():  # alternate, so load changes hit all
            ds = kept if keep else make_image_dataset(data, idx, options=opts, window_samples=1000,
                                                      batch_size=batch_size, training=False,
                                                      keep_in_memory=False).map(lambda x, y: (prepare(x), y))
            start = time.perf_counter()
            n = sum(int(x.shape[0]) for x, _ in ds)
            rates[name].append(n / (time.perf_counter() - start))
    best = {k: max(v) for k, v in rates.items()}
    result = {
        "command": f"python benchmarks/bench_printout_quality.py throughput --records {records} --repeats {repeats}",
        "render_command": "python scripts/render.py " + " ".join(shlex.quote(a) for a in render_argv),
        "records": int(len(idx)), "image_options": dataclasses.asdict(options), "batch_size": batch_size,
        "images_per_s": rates, "best_images_per_s": best, "folder_over_render": best["folder"] / best["render"],
        "kept_over_folder": best["render_kept_in_memory"] / best["folder"],
        "render_py_seconds": render_seconds, "render_py_images_per_s": len(idx) / render_seconds,
        "faster": max(best, key=best.get),
        "note": "same records, all through the run's prepare block (resize to 160x320, rescale); one process, "
                "alternating passes on the shared 2-core machine; render_kept_in_memory: epochs after the "
                "first with source=render (the first renders, as 'render')",
    }
    print(json.dumps({k: result[k] for k in ("best_images_per_s", "folder_over_render", "kept_over_folder", "faster")}, indent=1))
    _write(result, out)
    return result


def _write(result: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput", help="on-the-fly rendering vs a rendered folder (images/s)")
    t.add_argument("--records", type=int, default=200)
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--folder", default="runs/printout/rendered_3x4_dpi50")
    t.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "printout_throughput.json"))
    q = sub.add_parser("quality", help="score finished printout runs (fold 8, clean and photographed)")
    q.add_argument("--runs", default="runs/printout2")
    q.add_argument("--earlier-runs", default=None, help="folder of the EARLIER_EXPERIMENTS runs (runs/printout)")
    q.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "printout_quality.json"))
    args = p.parse_args(argv)
    if args.what == "throughput":
        return throughput(args.records, args.repeats, args.folder, args.out)
    return quality(args.runs, args.out, args.earlier_runs)


if __name__ == "__main__":
    main()
