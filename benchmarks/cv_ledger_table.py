#!/usr/bin/env python
"""Cross-validation figures from committed ledgers (``bench_real_data.py --ledger``), no training.

    python benchmarks/cv_ledger_table.py benchmarks/results/cv_ens3_mi_vs_norm_beat.json \
        benchmarks/results/cv_ens3_mi_vs_norm_beat+resnet.json

For every ledger: the main score (``--score``, default: ``auc``, else ``macro_auc``, else
``cinc2017_f1``) per test fold, its mean ± sd (ddof 1), and the same for each member position
(``SCORE_members``: an ensemble's members, or a combination's views). With two or more ledgers,
each later one is compared with the first on the test folds both hold: the mean and sd of the
paired differences, and on how many folds it was higher.
"""

from __future__ import annotations

import argparse
import json
import re

import numpy as np

SCORES = ("auc", "macro_auc", "cinc2017_f1")


def read_folds(path: str) -> dict[int, dict]:
    """``{test fold: result}`` of one ledger."""
    with open(path) as f:
        entries = json.load(f)["folds"]
    out = {}
    for key, result in entries.items():
        match = re.search(r"/test(\d+)$", key)
        if not match:
            raise SystemExit(f"{path}: unexpected ledger key {key!r} (expected NAME/testK)")
        out[int(match.group(1))] = result
    return out


def main_score(folds: dict[int, dict], score: str | None) -> str:
    """The score key to report: ``score``, or the first of :data:`SCORES` the ledger holds."""
    first = next(iter(folds.values()))
    if score:
        if score not in first:
            raise SystemExit(f"the ledger has no {score!r}; it has {', '.join(k for k in first if k in SCORES)}")
        return score
    for key in SCORES:
        if key in first:
            return key
    raise SystemExit(f"no score among {', '.join(SCORES)} in the ledger")


def mean_sd(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"


def summary(path: str, score: str | None = None) -> tuple[str, dict[int, float], list[str]]:
    """``(score key, {fold: score}, report lines)`` of one ledger."""
    folds = read_folds(path)
    key = main_score(folds, score)
    order = sorted(folds)
    values = {k: float(folds[k][key]) for k in order}
    lines = [f"{path}: {key} over test folds {', '.join(map(str, order))}",
             "  per fold: " + ", ".join(f"{values[k]:.3f}" for k in order),
             f"  mean ± sd: {mean_sd(list(values.values()))}"]
    members = [folds[k].get(f"{key}_members") for k in order]
    if all(members) and len({len(m) for m in members}) == 1:
        for i in range(len(members[0])):
            lines.append(f"  member {i + 1}: {mean_sd([m[i] for m in members])}")
        lines.append(f"  members' mean per fold: {mean_sd([np.mean(m) for m in members])}")
    return key, values, lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ledgers", nargs="+", help="ledger JSON files (benchmarks/results/cv_*.json)")
    p.add_argument("--score", help="score key (default: auc, macro_auc or cinc2017_f1, whichever the ledger has)")
    args = p.parse_args(argv)
    results = []
    for path in args.ledgers:
        key, values, lines = summary(path, args.score)
        print("\n".join(lines))
        results.append((path, key, values))
    base_path, base_key, base = results[0]
    for path, key, values in results[1:]:
        common = sorted(set(base) & set(values))
        if key != base_key or not common:
            print(f"{path} vs {base_path}: nothing to pair ({key} vs {base_key}, {len(common)} common folds)")
            continue
        diff = np.array([values[k] - base[k] for k in common])
        print(f"{path} minus {base_path}, {len(common)} paired folds: {mean_sd(diff)} "
              f"(higher on {int((diff > 0).sum())} of {len(common)})")
    return results


if __name__ == "__main__":
    main()
