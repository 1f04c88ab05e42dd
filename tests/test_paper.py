"""The page reader and digitiser (:mod:`ecgtf.paper`) on small world-style renders: scale, layout,
rotation, alpha, the signal read back, refusals that name their step, the filled record, and
``scripts/digitize.py`` / ``predict.py`` on images."""

import dataclasses
import json
import os

import cv2
import numpy as np
import pytest

from ecgtf.data.synthetic import synthesize_ecg
from ecgtf.paper import LEAD_NAMES, PageReadError, digitize_reading, read_page
from ecgtf.paper.impute import fill_unshown
from ecgtf.render.world import random_style, render_world_page
from serving_runs import tiny_runs  # noqa: F401  (session fixture)

RATE = 100.0


def _signal(seed=0):
    return synthesize_ecg((), RATE, 10.0, lead_names=LEAD_NAMES, rng=seed, noise_mv=0.005)


def _page(layout="3x4_1r", family="classic_red", dpi=120.0, seed=0, **changes):
    style = dataclasses.replace(random_style(np.random.default_rng(seed), family=family, layout=layout), dpi=dpi,
                                **changes)
    return render_world_page(_signal(seed), RATE, LEAD_NAMES, style)


def _snr(truth, est):
    out = []
    for t, e in zip(truth.T, est.T):
        ok = ~np.isnan(t)
        out.append(10 * np.log10(np.sum(t[ok] ** 2) / np.sum((t[ok] - np.nan_to_num(e[ok])) ** 2)))
    return np.array(out)


@pytest.mark.parametrize("layout", ["3x4", "3x4_1r", "3x4_3r", "6x2", "12x1"])
def test_layout_scale_and_signal_are_read_back(layout):
    page = _page(layout, dpi=200.0, calibration="left_each_row", label_pos="above", block_fraction=1.0)
    reading = read_page(page.image)
    assert reading.layout == layout
    assert reading.px_per_mm_x == pytest.approx(page.px_per_mm, rel=0.01)
    assert reading.px_per_mm_y == pytest.approx(page.px_per_mm, rel=0.01)
    est = digitize_reading(reading, RATE)
    assert est.shape == page.truth_mv.shape
    # NaN exactly where the page hides a lead (give or take the sample at a panel's edge).
    assert np.mean(np.isnan(est) == np.isnan(page.truth_mv)) > 0.99
    # At 200 dpi a pixel is 5 ms: the bench (benchmarks/bench_digitize.py) measures the quality;
    # this checks that the signal read back is the signal drawn.
    assert np.median(_snr(page.truth_mv, est)) > 3.0


def test_a_rotated_photo_like_page_with_alpha_is_straightened():
    page = _page("3x4_1r", dpi=150.0, calibration="left_each_row", label_pos="above", block_fraction=1.0)
    h, w = page.image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 6.0, 1.0)
    turned = cv2.warpAffine(page.image, m, (w, h), borderValue=(90, 70, 50))
    rgba = np.dstack([turned, np.full((h, w), 255, np.uint8)])
    reading = read_page(rgba)
    assert reading.angle_deg == pytest.approx(-6.0, abs=0.3) or reading.angle_deg == pytest.approx(6.0, abs=0.3)
    assert reading.layout == "3x4_1r"
    described = reading.describe()
    json.dumps(described)
    assert {"deskew", "grid", "layout", "panels", "confidence"} <= set(described)


def test_a_transparent_png_is_paper():
    page = _page("3x4", dpi=150.0, calibration="left_each_row", label_pos="above", block_fraction=1.0)
    rgba = np.dstack([page.image, np.full(page.image.shape[:2], 255, np.uint8)])
    rgba[:20, :20, 3] = 0  # a transparent corner reads as white paper
    a, b = read_page(rgba), read_page(page.image)
    assert a.layout == b.layout and a.x_start_px == pytest.approx(b.x_start_px, abs=1.0)


@pytest.mark.parametrize("image, step", [
    (np.full((400, 600, 3), 255, np.uint8), "ink"),
    (np.full((50, 50, 3), 255, np.uint8), "load"),
])
def test_unreadable_pages_are_refused_naming_the_step(image, step):
    with pytest.raises(PageReadError) as err:
        read_page(image)
    assert err.value.step == step and str(err.value).startswith(step + ":") and "\n" not in str(err.value)


def test_noise_is_refused_not_digitised():
    noise = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    with pytest.raises(PageReadError):
        read_page(noise)


def test_fill_unshown_keeps_what_the_page_shows_and_fills_the_rest():
    truth = _signal(2)
    shown = np.zeros_like(truth, bool)
    for c, leads in enumerate((("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))):
        for lead in leads:
            shown[int(c * 2.5 * RATE):int((c + 1) * 2.5 * RATE), LEAD_NAMES.index(lead)] = True
    shown[:, LEAD_NAMES.index("II")] = True
    partial = np.where(shown, truth, np.nan)
    filled, found = fill_unshown(partial, RATE)
    assert not np.isnan(filled).any() and found["filled"] and not found["flat_leads"]
    np.testing.assert_array_equal(filled[shown], partial[shown].astype(np.float32))
    # The filled beats repeat each lead's own beat: close to the (regular) truth.
    assert np.corrcoef(filled[~shown], truth[~shown])[0, 1] > 0.8


def test_digitize_script_writes_records_manifest_and_overlays(tmp_path, capsys):
    import digitize as digitize_script
    import wfdb

    from ecgtf.errors import run_cli

    pages = tmp_path / "pages"
    pages.mkdir()
    page = _page("3x4_1r", seed=4)
    cv2.imwrite(str(pages / "00008_lr-0.png"), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
    (pages / "torn.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"
    assert run_cli(digitize_script.main, ["--input", str(pages), "--out", str(out), "--rate", "100"]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "torn.png" in err and "load:" in err
    rec = wfdb.rdrecord(str(out / "00008_lr-0"))
    assert rec.fs == 100 and tuple(rec.sig_name) == LEAD_NAMES and rec.p_signal.shape == (1000, 12)
    assert np.isnan(rec.p_signal[:, LEAD_NAMES.index("V1")]).sum() == 750  # shown 2.5 s of 10
    assert not np.isnan(rec.p_signal[:, LEAD_NAMES.index("II")]).any()  # the rhythm strip
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    good = [r for r in rows if r["record"]]
    assert len(rows) == 2 and good[0]["page"]["layout"]["name"] == "3x4_1r"
    assert os.path.isfile(out / "overlays" / "00008_lr-0.png")
    # A rerun skips the finished page and retries only the bad one.
    run_cli(digitize_script.main, ["--input", str(pages), "--out", str(out)])
    assert "1 of 2 page(s) already digitised" in capsys.readouterr().err


def test_predict_reads_a_printout_with_a_signal_model(tmp_path, tiny_runs):  # noqa: F811
    import predict as predict_script

    page = _page("3x4_1r", seed=5)
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
    rows = predict_script.main(["--model", tiny_runs["median_beat"], "--input", str(path)])
    assert len(rows) == 1
    row = rows[0]
    assert row["input_path"] == "printout -> digitised -> signal model"
    assert row["page"]["layout"] == "3x4_1r"
    assert any("lead II" in n for n in row["notes"])  # a one-lead model reads the rhythm strip
    assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
