"""No script prints TensorFlow's start-up lines on a normal run; ``--debug`` brings them back."""

import os
import subprocess
import sys

from ecgtf.quiet import STARTUP_LINES, startup_lines_dropped

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796693050.008229    3887 port.cc:153] oneDNN custom operations are on. You may see ...\n"
    "I0000 00:00:1796693050.059274    3887 cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.\n"
    "E0000 00:00:1796693050.1    3887 cuda_dnn.cc:8579] Unable to register cuDNN factory: Attempting to ...\n"
)


def test_startup_lines_are_dropped_and_the_rest_is_kept(capfd):
    with startup_lines_dropped():
        os.write(2, STARTUP.encode() + b"E0000 00:00:1.0  1 gpu.cc:1] a real error\n")
        print("from Python", file=sys.stderr)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == ["E0000 00:00:1.0  1 gpu.cc:1] a real error", "from Python"], err


def _train_list_models(*extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    done = subprocess.run([sys.executable, "scripts/train.py", "--list-models", *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "compact1d" in done.stdout
    return [line for line in done.stderr.splitlines(keepends=True) if STARTUP_LINES.match(line)]


def test_train_list_models_prints_no_startup_lines_unless_debug():
    assert _train_list_models() == []
    assert any("absl::InitializeLog" in line for line in _train_list_models("--debug"))
