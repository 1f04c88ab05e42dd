#!/usr/bin/env python
"""Train an ECG classifier: ``python scripts/train.py --model NAME [options]``.

See ``--help``; the run folder layout is described in the README.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from ecgtf.models.registry import get_entry, list_models
    from ecgtf.training.cli import config_from_args
    from ecgtf.training.trainer import train

    cfg, _ = config_from_args(argv)
    if cfg is None:
        for name in list_models():
            entry = get_entry(name)
            print(f"{name:24s} {entry.input_kind:12s} {entry.description}")
        return None
    return train(cfg)


if __name__ == "__main__":
    from ecgtf.errors import run_cli

    sys.exit(run_cli(main))
