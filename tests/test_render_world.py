"""World-style printouts (:mod:`ecgtf.render.world`): every family and layout renders, the
reported geometry is where the pixels are, the truth hides what the layout hides, styles are
JSON-able, and :func:`ecgtf.render.photo.photograph` is seeded."""

import dataclasses
import json

import numpy as np
import pytest

from data_builders import PTBXL_LEADS, ecg_like
from ecgtf.render.photo import PHOTO_STRENGTHS, photograph
from ecgtf.render.world import (LAYOUT_NAMES, LEAD_NAMES, STYLE_FAMILIES, WorldStyle, plan_world_page, random_style,
                                render_world_page)

RATE = 250
N = 10 * RATE
PANELS = {"3x4": 12, "3x4_1r": 13, "3x4_3r": 15, "6x2": 12, "12x1": 12}


def _style(family="classic_red", layout="3x4", seed=0, **changes) -> WorldStyle:
    return dataclasses.replace(random_style(np.random.default_rng(seed), family=family, layout=layout), **changes)


def _dark(pixels: np.ndarray) -> np.ndarray:
    """True where a pixel is trace-dark (every channel below 90)."""
    return (pixels < 90).all(axis=-1)


def test_there_are_at_least_six_families_and_the_five_layouts():
    assert len(STYLE_FAMILIES) >= 6 and len(set(STYLE_FAMILIES)) == len(STYLE_FAMILIES)
    assert set(LAYOUT_NAMES) == {"3x4", "3x4_1r", "3x4_3r", "6x2", "12x1"}


@pytest.mark.parametrize("family", STYLE_FAMILIES)
@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_every_family_and_layout_renders(family, layout):
    style = _style(family, layout, seed=10 * STYLE_FAMILIES.index(family) + LAYOUT_NAMES.index(layout), dpi=60.0)
    assert style.family == family and style.layout == layout
    page = render_world_page(ecg_like(N, 12, RATE), RATE, PTBXL_LEADS, style)
    plan = plan_world_page(style)
    assert page.image.dtype == np.uint8 and page.image.shape == (plan.height_px, plan.width_px, 3)
    assert len(page.panels) == PANELS[layout]
    assert page.truth_mv.shape == (N, 12) and page.truth_mv.dtype == np.float32
    assert page.lead_names == LEAD_NAMES and page.sampling_rate == RATE
    x0, y0, x1, y1 = page.block_px
    assert 0 <= x0 < x1 <= page.image.shape[1] and 0 <= y0 < y1 <= page.image.shape[0]
    for p in page.panels:  # every trace inside the block, every baseline inside the page
        assert x0 - 1 <= p["x0_px"] < p["x1_px"] <= x1 + 1 and y0 < p["baseline_y_px"] < y1
    # the traces are on the page: many pixels nearer the trace colour than any other colour of the style
    colors = [c for c in (style.paper_color, style.minor_color, style.major_color) if c is not None]
    dist = lambda c: np.abs(page.image.astype(int) - np.array(c)).sum(axis=-1)  # noqa: E731
    ink = dist(style.trace_color) < np.min([dist(c) for c in colors], axis=0)
    assert ink.sum() > 1000


@pytest.mark.parametrize("family", STYLE_FAMILIES)
def test_random_style_is_seeded_and_json_able(family):
    a = random_style(np.random.default_rng(5), family=family)
    assert a == random_style(np.random.default_rng(5), family=family)
    text = json.dumps(dataclasses.asdict(a))
    assert WorldStyle.from_dict(json.loads(text)) == a
    assert 100 <= a.dpi <= 300 and a.speed_mm_s == 25.0 and a.layout in LAYOUT_NAMES


def test_random_style_rejects_unknown_names():
    with pytest.raises(ValueError, match="family"):
        random_style(np.random.default_rng(0), family="sepia")
    with pytest.raises(ValueError, match="layout"):
        random_style(np.random.default_rng(0), layout="4x3")


def test_families_differ_in_look():
    looks = {f: random_style(np.random.default_rng(1), family=f) for f in STYLE_FAMILIES}
    keys = {(s.grid, s.dotted, s.font, s.label_pos, s.calibration) for s in looks.values()}
    assert len(keys) == len(STYLE_FAMILIES)


def _shown(layout) -> dict:
    """Lead -> list of (start_s, stop_s) the layout shows."""
    q = {name: [] for name in LEAD_NAMES}
    if layout.startswith("3x4"):
        rows = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
        for row in rows:
            for c, name in enumerate(row):
                q[name].append((2.5 * c, 2.5 * (c + 1)))
        for name in {"3x4": (), "3x4_1r": ("II",), "3x4_3r": ("II", "V1", "V5")}[layout]:
            q[name].append((0.0, 10.0))
    elif layout == "6x2":
        for name in LEAD_NAMES:
            q[name].append((0.0, 5.0) if name in LEAD_NAMES[:6] else (5.0, 10.0))
    else:
        for name in LEAD_NAMES:
            q[name].append((0.0, 10.0))
    return q


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_truth_is_nan_exactly_where_the_layout_hides_a_lead(layout):
    signal = ecg_like(N, 12, RATE, seed=3)
    page = render_world_page(signal, RATE, PTBXL_LEADS, _style("green_mono", layout, dpi=50.0))
    t = np.arange(N) / RATE
    for j, name in enumerate(LEAD_NAMES):
        shown = np.zeros(N, bool)
        for a, b in _shown(layout)[name]:
            shown |= (t >= a - 1e-9) & (t < b - 1e-9)
        assert np.array_equal(~np.isnan(page.truth_mv[:, j]), shown), name
        np.testing.assert_allclose(page.truth_mv[shown, j], signal[shown, j], rtol=1e-6)
    reported = {(p["lead"], p["start_s"], p["stop_s"]) for p in page.panels}
    assert reported == {(n, a, b) for n, spans in _shown(layout).items() for a, b in spans}


def test_leads_are_matched_by_name_in_any_order_and_case():
    order = [11, 3, 0, 7, 1, 9, 2, 4, 10, 5, 8, 6]
    names = [PTBXL_LEADS[i] for i in order]  # AVR etc., shuffled
    signal = np.tile(np.array([0.1 * (i + 1) for i in order], np.float32), (N, 1))
    page = render_world_page(signal, RATE, names, _style("pink_fine", "12x1", dpi=50.0))
    for j in range(12):  # column j of the truth is lead LEAD_NAMES[j], whose value is 0.1 * (j + 1)
        np.testing.assert_allclose(page.truth_mv[:, j], 0.1 * (j + 1), rtol=1e-6)


def test_short_records_pad_with_nan_and_a_flat_line_long_ones_are_cropped():
    style = _style("classic_red", "12x1", dpi=100.0, trace_color=(0, 0, 0), label_pos="none")
    short = np.full((4 * RATE, 12), 1.0, np.float32)
    page = render_world_page(short, RATE, PTBXL_LEADS, style)
    assert np.isnan(page.truth_mv[4 * RATE:]).all() and (page.truth_mv[:4 * RATE] == 1.0).all()
    p = page.panels[0]
    x = int(round(p["x0_px"] + 7.0 * 25.0 * page.px_per_mm))  # 7 s: past the record's end
    col = _dark(page.image[:, x])
    base = int(round(p["baseline_y_px"]))
    assert col[base - 1:base + 2].any()  # flat 0 mV line
    assert not col[int(round(base - 10 * page.px_per_mm)) - 2:int(round(base - 10 * page.px_per_mm)) + 3].any()
    long = ecg_like(25 * RATE, 12, RATE)
    assert render_world_page(long, RATE, PTBXL_LEADS, style).truth_mv.shape == (N, 12)


@pytest.mark.parametrize("family", STYLE_FAMILIES)
@pytest.mark.parametrize("layout", ["3x4_1r", "6x2", "12x1"])
def test_a_constant_1_mv_is_drawn_where_panels_say(family, layout):
    style = _style(family, layout, seed=7, dpi=100.0, trace_color=(0, 0, 0))
    page = render_world_page(np.ones((N, 12), np.float32), RATE, PTBXL_LEADS, style)
    ppm = page.px_per_mm
    for p in page.panels:
        y_pred = p["baseline_y_px"] - style.gain_mm_mv * ppm
        for frac in (0.35, 0.6, 0.9):
            x = int(round(p["x0_px"] + frac * (p["x1_px"] - p["x0_px"])))
            lo, hi = int(np.floor(y_pred - 1.2 * ppm)), int(np.ceil(y_pred + 1.2 * ppm)) + 1
            ink = np.clip(110 - page.image[lo:hi, x].max(axis=-1).astype(float), 0, None)  # black trace only
            assert ink.sum() > 0, (p, frac)
            assert abs(lo + np.average(np.arange(hi - lo), weights=ink) - y_pred) <= 1.0, (p, frac, ink)


@pytest.mark.parametrize("family", ["classic_red", "no_grid", "orange_wide"])
def test_time_runs_at_the_paper_speed_from_each_panel_start(family):
    # 0 mV then 1 mV, stepping up at 0.5 s past every whole second: vertical edges at known x.
    t = np.arange(N) / RATE
    signal = np.repeat(((t % 1.0) >= 0.5).astype(np.float32)[:, None], 12, axis=1)
    style = _style(family, "3x4", seed=2, dpi=100.0, trace_color=(0, 0, 0))
    page = render_world_page(signal, RATE, PTBXL_LEADS, style)
    ppm = page.px_per_mm
    px_per_s = style.speed_mm_s * ppm
    for p in page.panels:
        y = int(round(p["baseline_y_px"] - 0.5 * style.gain_mm_mv * ppm))  # halfway up the step
        dark = np.flatnonzero(_dark(page.image[y]))
        edges = [e for e in np.arange(np.ceil(p["start_s"] - 0.5) + 0.5, p["stop_s"], 1.0) if e > p["start_s"] + 0.3]
        assert edges
        for e in edges:
            x_pred = p["x0_px"] + (e - p["start_s"]) * px_per_s
            near = dark[np.abs(dark - x_pred) <= 2.5]
            assert near.size and abs(near.mean() - x_pred) <= 1.0, (p, e, near)


def _centres(weight: np.ndarray) -> np.ndarray:
    """Weighted centre of each run of consecutive pixels with weight > 0."""
    idx = np.flatnonzero(weight > 0)
    groups = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    return np.array([np.average(g, weights=weight[g]) for g in groups if g.size])


@pytest.mark.parametrize("offset", [(0.0, 0.0), (2.0, 1.0)])
def test_5_mm_lines_are_every_5_mm_from_the_grid_origin(offset):
    style = _style("classic_red", "3x4", seed=4, dpi=120.0, grid_offset_mm=offset, grid_extent="page",
                   minor_color=(255, 220, 220), major_color=(200, 60, 60), minor_width_px=1.0, major_width_px=1.5,
                   header=False, footer=False, label_pos="none", calibration="none", separators=False)
    page = render_world_page(np.zeros((N, 12), np.float32), RATE, PTBXL_LEADS, style)
    ppm, img = page.px_per_mm, page.image.astype(int)
    first = page.panels[0]
    x_origin = first["x0_px"] + offset[0] * ppm  # aligned: the trace start is on a 5 mm line
    y_origin = first["baseline_y_px"] + offset[1] * ppm
    # A pixel row 2.5 mm under a baseline crosses only vertical lines: the dark-red ones are 5 mm lines.
    y = int(round(first["baseline_y_px"] + 2.5 * ppm))
    g = img[y, :, 1]
    xs = _centres(np.clip(img[y, :, 0] - g - 60, 0, None))  # dark red: not 1 mm lines nor traces
    k = (xs - x_origin) / (5 * ppm)
    assert len(xs) > 40 and np.abs(k - np.round(k)).max() * 5 * ppm <= 0.6
    # A pixel column 2.5 mm after the trace start crosses only horizontal lines.
    x = int(round(first["x0_px"] + 2.5 * ppm))
    ys = _centres(np.clip(img[:, x, 0] - img[:, x, 1] - 60, 0, None))
    k = (ys - y_origin) / (5 * ppm)
    assert len(ys) > 25 and np.abs(k - np.round(k)).max() * 5 * ppm <= 0.6
    # 1 mm lines: the pixel at each is darker than the pixel half a millimetre on.
    ks = np.arange(np.ceil((20 - x_origin) / ppm), np.floor((len(g) - 20 - x_origin) / ppm))
    ks = ks[ks % 5 != 0]
    on = g[np.round(x_origin + ks * ppm).astype(int)]
    off = g[np.round(x_origin + (ks + 0.5) * ppm).astype(int)]
    assert len(ks) > 150 and (on < off - 10).all()
    assert style.grid_aligned == (offset == (0.0, 0.0))


@pytest.mark.parametrize("gain", [5.0, 10.0, 20.0])
@pytest.mark.parametrize("shape", ["square", "stepped"])
def test_the_calibration_pulse_is_1_mv_tall_at_the_gain(gain, shape):
    style = _style("classic_red", "3x4", seed=1, dpi=100.0, gain_mm_mv=gain, calibration_shape=shape,
                   calibration="left_each_row", trace_color=(0, 0, 0), label_pos="none")
    page = render_world_page(np.zeros((N, 12), np.float32), RATE, PTBXL_LEADS, style)
    ppm = page.px_per_mm
    x = int(round(page.block_px[0] + (2.5 + 1.25) * ppm))  # over the first half of the pulse top
    for base in sorted({p["baseline_y_px"] for p in page.panels}):
        lo, hi = int(base - (gain + 3) * ppm), int(base - 0.6 * ppm)
        rows = lo + np.flatnonzero(_dark(page.image[lo:hi, x]))
        assert rows.size and abs(rows.mean() - (base - gain * ppm)) <= 1.0


def test_rendering_is_deterministic_and_styles_look_different():
    signal = ecg_like(N, 12, RATE)
    a = render_world_page(signal, RATE, PTBXL_LEADS, _style("blue_dotted", dpi=60.0))
    b = render_world_page(signal, RATE, PTBXL_LEADS, _style("blue_dotted", dpi=60.0))
    assert np.array_equal(a.image, b.image) and a.panels == b.panels
    c = render_world_page(signal, RATE, PTBXL_LEADS, _style("grey_scan", dpi=60.0))
    assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="signal_mv"):
        render_world_page(np.zeros((N, 11)), RATE, PTBXL_LEADS, _style(dpi=50.0))
    with pytest.raises(ValueError, match="lead"):
        render_world_page(np.zeros((N, 12)), RATE, [f"L{i}" for i in range(12)], _style(dpi=50.0))
    with pytest.raises(ValueError, match="grid"):
        WorldStyle(grid="purple")


@pytest.fixture(scope="module")
def small_page():
    style = _style("classic_red", "3x4_1r", seed=3, dpi=50.0)
    return render_world_page(ecg_like(N, 12, RATE), RATE, PTBXL_LEADS, style).image


@pytest.mark.parametrize("strength", list(PHOTO_STRENGTHS))
def test_photograph_is_seeded_and_changes_the_image(small_page, strength):
    before = small_page.copy()
    a = photograph(small_page, np.random.default_rng(11), strength)
    b = photograph(small_page, np.random.default_rng(11), strength)
    c = photograph(small_page, np.random.default_rng(12), strength)
    assert a.dtype == np.uint8 and a.shape == small_page.shape
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a.astype(int) - small_page.astype(int)).mean() > 5  # rotated onto a table, lit, noisy
    assert np.array_equal(small_page, before)  # the input is left as it was


def test_photograph_refuses_bad_input(small_page):
    with pytest.raises(ValueError):
        photograph(small_page.astype(np.float32), np.random.default_rng(0))
    with pytest.raises(KeyError):
        photograph(small_page, np.random.default_rng(0), "extreme")
