"""The default window comes from the records' length distribution, never from one long record."""

import os
import sys

from data_builders import ecg_like, write_cinc2017
from ecgtf.inputs.runspec import RunSpec, default_window, window_samples

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import train as train_script  # noqa: E402


def test_one_long_record_does_not_set_the_window():
    short = [900] * 8 + [1200] * 3
    samples, why = default_window(short + [300 * 3600], 300)  # one 60-minute record
    assert samples == 1200
    assert "window 1200 samples (4 s)" in why and "longest 3600 s" in why and "1 longer record is cropped" in why
    assert window_samples(None, 300, short + [300 * 3600]) == 1200
    assert window_samples(2.0, 300, short + [300 * 3600]) == 600  # --duration-s wins
    # Many long records (but under 5 %) do not set it either; a long majority is capped at twice the median.
    assert default_window([9000] * 95 + [18000] * 4 + [10**6], 300)[0] == 9000
    assert default_window([9000] * 50 + [10**6] * 49, 300)[0] == 18000
    assert default_window([1000] * 5, 100)[0] == 1000


def test_training_with_a_60_minute_record_among_short_ones(tmp_path, capsys):
    labels = {f"A{i:05d}": "NAO~"[i % 4] for i in range(1, 13)}
    holter = ecg_like(300 * 3600, 1, 300, seed=7)  # 60 minutes at 300 Hz
    root = write_cinc2017(tmp_path / "d", labels, seconds=3.0, signals={"A00005": holter})
    out = tmp_path / "run"
    train_script.main(["--model", "compact1d", "--dataset", "cinc2017", "--data-dir", root,
                       "--cache-dir", str(tmp_path / "cache"), "--sampling-rate", "100", "--epochs", "1",
                       "--batch-size", "4", "--out", str(out), "--verbose", "0"])
    spec = RunSpec.load(str(out / "run_spec.json"))
    assert spec.window_s < 7  # the short records' length (3-6.7 s), not 3,600 s
    printed = capsys.readouterr().out
    assert f"window {spec.window_samples} samples" in printed and "longest 3600 s" in printed
