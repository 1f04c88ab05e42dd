"""Ensembles of trained runs: the mean of their saved per-record probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd


def merge_predictions(frames: list[pd.DataFrame]):
    """``(y_true, [prob, ...], record_ids)`` over the records every table scored.

    Args:
        frames: ``predictions.csv`` tables (``record_id``, ``true_<output>``..., ``prob_<output>``...),
            one per run, all for the same task.

    Returns:
        ``y_true`` ``(N, outputs)``, one ``(N, outputs)`` probability array per frame (same
        row order) and the ``N`` record ids, in the first table's order.

    Raises:
        ValueError: no table, different outputs, no shared record, or labels
            that disagree between tables.
    """
    if not frames:
        raise ValueError("no prediction table given")
    true_cols = [c for c in frames[0].columns if c.startswith("true_")]
    prob_cols = [c for c in frames[0].columns if c.startswith("prob_")]
    if not prob_cols:
        raise ValueError("the prediction table has no prob_* column")
    for frame in frames[1:]:
        if true_cols != [c for c in frame.columns if c.startswith("true_")]:
            raise ValueError("the prediction files have different outputs; were they made for the same task?")
    tables = [f.assign(record_id=f["record_id"].astype(str)).set_index("record_id") for f in frames]
    shared = tables[0].index
    for table in tables[1:]:
        shared = shared[shared.isin(table.index)]
    if shared.empty:
        raise ValueError("the prediction files share no record; score every run on the same records")
    y_true = tables[0].loc[shared, true_cols].to_numpy()
    for table in tables[1:]:
        if not np.array_equal(y_true, table.loc[shared, true_cols].to_numpy()):
            raise ValueError("the prediction files disagree on some labels")
    probs = [table.loc[shared, prob_cols].to_numpy(float) for table in tables]
    return y_true, probs, shared.to_numpy()


def mean_probabilities(probs: list[np.ndarray]) -> np.ndarray:
    """The ensemble's probabilities: the mean over members (rows still sum to 1 for softmax)."""
    return np.mean(np.stack([np.asarray(p, float) for p in probs]), axis=0)


def mean_thresholds(thresholds: list[list[float] | None]) -> list[float] | None:
    """Mean of the members' tuned thresholds, or None when any member has none."""
    if not thresholds or any(t is None for t in thresholds):
        return None
    return [float(v) for v in np.mean(np.asarray(thresholds, float), axis=0)]


#: What the members of a loadable ensemble must share: its model takes one decoded record.
SHARED_SPEC_FIELDS = ("dataset", "task", "class_names", "sampling_rate", "signal_filter", "lead_names", "units",
                      "window_samples", "eval_hop_samples")


def spec_differences(specs) -> list[str]:
    """One line per :data:`SHARED_SPEC_FIELDS` entry on which the members' ``RunSpec`` differ."""
    out = []
    for name in SHARED_SPEC_FIELDS:
        values = [getattr(s, name) for s in specs]
        if any(v != values[0] for v in values[1:]):
            out.append(f"{name} ({', '.join(str(v) for v in values)})")
    return out


def average_model(models, name: str = "ensemble"):
    """One Keras model whose output is the mean of ``models``' outputs on the same input.

    Each member keeps its own ``prepare`` block, so members of different input kinds (raw signal,
    spectrogram, median beat) combine as long as they take the same decoded record.
    """
    import keras

    inputs = keras.Input(models[0].input_shape[1:], name="signal_mv")
    members = [keras.Model(m.inputs[0], m.outputs[0], name=f"member_{k}") for k, m in enumerate(models)]
    return keras.Model(inputs, keras.layers.Average(name="mean_probability")([m(inputs) for m in members]),
                       name=name)
