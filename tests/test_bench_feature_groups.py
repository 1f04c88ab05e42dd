import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

from bench_feature_groups import GROUPS, variants  # noqa: E402

from ecgtf.features.ecg_features import feature_names  # noqa: E402


def test_groups_name_measured_features_and_variants_blank_them():
    names = feature_names(["ECG"])
    grouped = [n for g in GROUPS.values() for n in g]
    assert set(grouped) <= set(names) and len(set(grouped)) == len(grouped)
    masks = variants(names)
    assert masks["all"].all()
    assert masks["before"].sum() == len(names) - len(grouped)
    for g, members in GROUPS.items():
        kept = {n for n, m in zip(names, masks[f"before+{g}"]) if m}
        assert set(members) <= kept and not (set(grouped) - set(members)) & kept
    assert not np.array_equal(masks["before"], masks["all"])
