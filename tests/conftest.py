"""Shared pytest set-up: quiet TF without oneDNN, Agg plots, no wandb, and the opt-in `slow` marker."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("WANDB_MODE", "disabled")
# TF's oneDNN CPU kernels crashed (segfault/abort in the first training step) in 9 of 12 tiny runs on a
# heavily loaded machine, and in none of 3 with them off; off, the suite runs ~12 % slower.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same seeds (numpy, Python, TF/Keras)."""
    import keras

    keras.utils.set_random_seed(0)
    yield
