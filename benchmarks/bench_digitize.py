"""Reading printouts back: digitisation SNR, seconds per page, and the final predictor's AUC on
digitised pages next to the true signals, on randomised renders of PTB-XL records.

Usage:
    python benchmarks/bench_digitize.py --data-dir ../shared/data/ptbxl --fold 8 \
        --model runs/final_mi_vs_norm [--limit N] [-j 2] [--out benchmarks/results/digitize_fold8.json]

Every MI or NORM record of the fold is drawn once in one of ecgtf's world styles (the families
of :mod:`ecgtf.render.world_style` in turn, with the five layouts in turn, the rest drawn at
random) and once more photographed (:func:`ecgtf.render.photo.photograph`, medium). The page
reader and digitiser were developed on pages of another look (an imitation of a third-party
generator, not in this repository) and none of their settings was fitted to these families:
every family is held out.

SNR is computed as the PhysioNet/CinC 2024 scorer does: per lead, over the samples the page
shows, with no alignment (time or offset), ``10 log10(sum(x^2) / sum((x - y)^2))``; a lead the
digitiser left NaN counts as 0 mV. The digitiser samples at the record's rate. Reported: mean
and median over leads, by variant, layout and family; seconds per page (read + digitise,
one process each); the model's AUC on the true signals, on the digitised pages (through the
``predict.py`` path: digitised at 500 Hz, unshown stretches filled, decoded as the run decodes),
and the share of pages refused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def snr_db(truth: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Per-lead SNR (dB) over the samples where ``truth`` is not NaN; NaN estimates count as 0."""
    out = []
    for t, e in zip(truth.T, estimate.T):
        shown = ~np.isnan(t)
        if not shown.any():
            continue
        t, e = t[shown], np.nan_to_num(e[shown])
        noise = float(np.sum((t - e) ** 2))
        out.append(10 * np.log10(float(np.sum(t ** 2)) / noise) if noise > 0 else np.inf)
    return np.array(out)


def _page(task):
    """Renders one page (clean or photographed), reads and digitises it."""
    from ecgtf.paper import PageReadError, digitize_reading, read_page
    from ecgtf.paper.impute import fill_unshown
    from ecgtf.render.photo import photograph
    from ecgtf.render.world import random_style, render_world_page

    rid, signal, rate, leads, family, layout, seed, variant = task
    rng = np.random.default_rng(seed)
    style = random_style(rng, family=family, layout=layout)
    page = render_world_page(signal, rate, leads, style)
    image = page.image if variant == "clean" else photograph(page.image, np.random.default_rng(seed + 1))
    row = {"record_id": rid, "variant": variant, "family": family, "layout": layout, "dpi": round(style.dpi)}
    t0 = time.perf_counter()
    try:
        reading = read_page(image)
        est = digitize_reading(reading, rate)
    except PageReadError as err:
        row.update(error=str(err), seconds=round(time.perf_counter() - t0, 3))
        return row, None
    row["seconds"] = round(time.perf_counter() - t0, 3)
    n = min(len(est), len(page.truth_mv))
    truth = page.truth_mv[:n].astype(np.float64)
    lead_snr = snr_db(truth, est[:n])
    row.update(snr_mean=float(np.mean(lead_snr)), snr_median=float(np.median(lead_snr)),
               layout_found=reading.layout, confidence=reading.confidence)
    filled = None
    if not np.isnan(est).all(axis=0).any():
        filled = fill_unshown(digitize_reading(reading, 500.0), 500.0)[0]
    return row, filled


def _summary(rows, key):
    out = {}
    for value in sorted({r[key] for r in rows}):
        sub = [r for r in rows if r[key] == value]
        ok = [r["snr_mean"] for r in sub if "snr_mean" in r]
        out[value] = {"pages": len(sub), "refused": len(sub) - len(ok),
                      "snr_mean_db": round(float(np.mean(ok)), 2) if ok else None,
                      "snr_median_db": round(float(np.median(ok)), 2) if ok else None}
    return out


def main(argv=None):
    from sklearn.metrics import roc_auc_score

    from ecgtf.data.ptbxl import PTBXLReader
    from ecgtf.data.record import Record
    from ecgtf.paper.layout import LEAD_NAMES
    from ecgtf.render.world import LAYOUT_NAMES, STYLE_FAMILIES
    from ecgtf.serving.predictor import load_predictor, prepare_record

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--fold", type=int, default=8)
    p.add_argument("--model", help="a final predictor or run folder taking 12-lead PTB-XL records (mi_vs_norm)")
    p.add_argument("--limit", type=int, help="first N records only")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    args = p.parse_args(argv)

    data = PTBXLReader(args.data_dir, 100)
    frame, _ = data.index()
    task = data.tasks["mi_vs_norm"]
    frame = frame[frame["fold"] == args.fold]
    items = []
    for _, row in frame.iterrows():
        label = data.encode(task, row["codes"])
        if label is not None:
            items.append((row, int(label[0])))
    items = items[:args.limit] if args.limit else items
    tasks, labels, signals = [], {}, {}
    for i, (row, label) in enumerate(items):
        rec = data.read(row)
        signals[rec.record_id] = rec
        labels[rec.record_id] = label
        family = STYLE_FAMILIES[i % len(STYLE_FAMILIES)]
        layout = LAYOUT_NAMES[i % len(LAYOUT_NAMES)]
        for variant in ("clean", "photo"):
            tasks.append((rec.record_id, rec.signal_mv, rec.sampling_rate, rec.lead_names, family, layout,
                          args.seed * 100003 + 2 * i, variant))
    print(f"{len(items)} records of fold {args.fold} ({sum(labels.values())} MI), {len(tasks)} pages", file=sys.stderr)
    from tqdm import tqdm

    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(tqdm(pool.map(_page, tasks, chunksize=2), total=len(tasks), desc="pages"))
    else:
        results = [_page(t) for t in tqdm(tasks, desc="pages")]
    rows = [r for r, _ in results]
    summary = {"pages": len(rows)}
    for variant in ("clean", "photo"):
        sub = [r for r in rows if r["variant"] == variant]
        ok = [r for r in sub if "snr_mean" in r]
        secs = [r["seconds"] for r in sub]
        summary[variant] = {
            "pages": len(sub), "refused": len(sub) - len(ok),
            "refused_by_step": {s: sum(1 for r in sub if r.get("error", "").startswith(s + ":"))
                                for s in sorted({r["error"].split(":")[0] for r in sub if "error" in r})},
            "snr_mean_db": round(float(np.mean([r["snr_mean"] for r in ok])), 2) if ok else None,
            "snr_median_db": round(float(np.median([r["snr_median"] for r in ok])), 2) if ok else None,
            "layout_correct": round(float(np.mean([r["layout_found"] == r["layout"] for r in ok])), 3) if ok else None,
            "seconds_per_page": {"mean": round(float(np.mean(secs)), 3), "median": round(float(np.median(secs)), 3),
                                 "max": round(float(np.max(secs)), 3)},
            "by_layout": _summary(sub, "layout"), "by_family": _summary(sub, "family")}
    if args.model:
        predictor = load_predictor(args.model)
        info = predictor.info
        ids = list(signals)
        y = np.array([labels[r] for r in ids])
        true_in = [prepare_record(signals[r], info)[0] for r in ids]
        p_true = predictor.probabilities(true_in)[:, -1]
        summary["auc_true_signals"] = round(float(roc_auc_score(y, p_true)), 4)
        for variant in ("clean", "photo"):
            got = {row["record_id"]: filled for row, filled in results if row["variant"] == variant
                   and filled is not None}
            read_ids = [r for r in ids if r in got]
            recs = [Record(r, got[r], tuple(LEAD_NAMES), 500.0) for r in read_ids]
            p_dig = predictor.probabilities([prepare_record(rec, info)[0] for rec in recs])[:, -1] if recs else []
            by_id = dict(zip(read_ids, p_dig))
            y_read = np.array([labels[r] for r in read_ids])
            summary[variant]["auc_digitised"] = round(float(roc_auc_score(y_read, p_dig)), 4) \
                if len(set(y_read)) == 2 else None
            summary[variant]["auc_true_same_records"] = round(float(roc_auc_score(
                y_read, [p_true[ids.index(r)] for r in read_ids])), 4) if len(set(y_read)) == 2 else None
            # Refused pages scored as undecided (0.5): what a user who needs an answer for every page gets.
            summary[variant]["auc_digitised_refused_as_0.5"] = round(float(roc_auc_score(
                y, [by_id.get(r, 0.5) for r in ids])), 4)
        summary["model"] = args.model
    result = {"command": "python benchmarks/bench_digitize.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "summary": summary, "pages": rows}
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(json.dumps(summary, indent=1))
    return result


if __name__ == "__main__":
    main()
