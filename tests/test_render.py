"""The printout renderer (geometry read back from the pixels, layouts, determinism) and the
seeded photo augmentations."""

import numpy as np
import pytest

from data_builders import PTBXL_LEADS, ecg_like
from ecgtf.render import mpl_renderer, opencv_renderer
from ecgtf.render.paper import (CAL_RISE_MM, LAYOUTS, LEFT_MM, PaperStyle, display_name, dpi_for_width,
                                grid_lines_px, plan_page)
from ecgtf.render.photo import PhotoAugment, augment_batch, augment_photo, get_preset

BARE = dict(grid="none", labels=False)


def _dark_rows(column: np.ndarray) -> np.ndarray:
    return np.flatnonzero(column.mean(axis=-1) < 128)


def _centre(idx: np.ndarray) -> float:
    assert idx.size, "no dark pixel where a line should be"
    return float(idx.mean())


RENDERERS = pytest.mark.parametrize("renderer", [opencv_renderer, mpl_renderer], ids=["opencv", "matplotlib"])


@RENDERERS
@pytest.mark.parametrize("dpi", [100.0, 300.0])
def test_calibration_pulse_is_10_mm_tall_and_0_2_s_wide(dpi, renderer):
    style = PaperStyle(dpi=dpi, **BARE)
    img = renderer.render_printout(np.zeros((200, 1)), 100, ["II"], "stack", style)
    ppm = style.px_per_mm
    baseline = plan_page("stack", ["II"], 2.0, style).rows_mm[0]
    top_row = _centre(_dark_rows(img[:, round(5.5 * ppm)]))     # over the pulse's top
    base_row = _centre(_dark_rows(img[:, round(9.0 * ppm)]))    # flat line after the pulse
    assert abs(base_row - baseline * ppm) <= 1.0
    assert abs((base_row - top_row) - 10.0 * ppm) <= 1.0        # 1 mV = 10 mm
    mid = img[round((baseline - 5.0) * ppm), :round(LEFT_MM * ppm)]
    cols = np.flatnonzero(mid.mean(axis=-1) < 128)
    left, right = cols[cols < 5.5 * ppm], cols[cols > 5.5 * ppm]
    assert abs(_centre(left) - CAL_RISE_MM * ppm) <= 1.0
    assert abs((_centre(right) - _centre(left)) - 5.0 * ppm) <= 1.0  # 0.2 s = 5 mm


@RENDERERS
@pytest.mark.parametrize("dpi", [100.0, 250.0])
def test_one_second_is_25_mm(dpi, renderer):
    rate = 500
    sig = np.zeros((3 * rate, 1))
    sig[[rate, 2 * rate], 0] = 2.0  # 2 mV spikes at 1 s and 2 s
    style = PaperStyle(dpi=dpi, calibration=False, **BARE)
    img = renderer.render_printout(sig, rate, ["V1"], "stack", style)
    ppm = style.px_per_mm
    baseline = plan_page("stack", ["V1"], 3.0, style).rows_mm[0]
    row = img[round((baseline - 15.0) * ppm)]  # 1.5 mV up: only the spikes reach it
    cols = np.flatnonzero(row.mean(axis=-1) < 200)
    first, second = cols[cols < (LEFT_MM + 37.5) * ppm], cols[cols > (LEFT_MM + 37.5) * ppm]
    assert abs(_centre(first) - (LEFT_MM + 25.0) * ppm) <= 1.0
    assert abs((_centre(second) - _centre(first)) - 25.0 * ppm) <= 1.0


@pytest.mark.parametrize("grid", ["red", "grey"])
def test_grid_lines_fall_every_mm_and_heavier_every_5_mm(grid):
    style = PaperStyle(grid=grid, labels=False, calibration=False)
    img = opencv_renderer.render_printout(np.zeros((300, 1)), 100, ["I"], "stack", style)
    minor, major = style.grid_colors
    page = plan_page("stack", ["I"], 3.0, style)
    ppm = style.px_per_mm
    row = img[round(2.5 * ppm)]  # between the 2 and 3 mm lines, above the trace
    is_major = np.all(row == major, axis=-1)
    is_minor = np.all(row == minor, axis=-1)
    majors = grid_lines_px(page.width_mm, ppm, 5)
    assert set(np.flatnonzero(is_major)) == set(majors[majors < img.shape[1]])
    minors = set(grid_lines_px(page.width_mm, ppm, 1)) - set(majors)
    assert set(np.flatnonzero(is_minor)) == {m for m in minors if m < img.shape[1]}
    assert np.all(row[~(is_major | is_minor)] == style.paper_color)
    col = img[:, round(2.5 * ppm)]  # a column left of the calibration area
    ys = grid_lines_px(page.height_mm, ppm, 5)
    assert set(np.flatnonzero(np.all(col == major, axis=-1))) == set(ys[ys < img.shape[0]])


def test_no_grid_is_plain_paper():
    style = PaperStyle(grid="none", labels=False, calibration=False)
    img = opencv_renderer.render_printout(np.zeros((100, 1)), 100, ["I"], "stack", style)
    assert np.all(img[:20] == 255)


@RENDERERS
def test_sine_read_back_from_pixels(renderer):
    rate, seconds = 500, 4.0
    t = np.arange(int(rate * seconds)) / rate
    sig = (1.2 * np.sin(2 * np.pi * 1.3 * t))[:, None]
    style = PaperStyle(dpi=200, calibration=False, **BARE)
    img = renderer.render_printout(sig, rate, ["II"], "stack", style)
    ppm = style.px_per_mm
    baseline = plan_page("stack", ["II"], seconds, style).rows_mm[0]
    dark = 255.0 - img.mean(axis=-1)
    x0, x1 = int(np.ceil(LEFT_MM * ppm)) + 2, int((LEFT_MM + seconds * 25.0) * ppm) - 2
    xs = np.arange(x0, x1)
    ys = np.arange(img.shape[0])[:, None]
    centroid = (dark[:, xs] * ys).sum(axis=0) / dark[:, xs].sum(axis=0)
    read_mv = (baseline * ppm - centroid) / (style.gain_mm_mv * ppm)
    read_t = (xs / ppm - LEFT_MM) / style.speed_mm_s
    truth = 1.2 * np.sin(2 * np.pi * 1.3 * read_t)
    err = np.abs(read_mv - truth)
    assert err.mean() < 0.02 and err.max() < 0.1, (err.mean(), err.max())  # mV


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_shape_and_both_renderers_agree(layout):
    sig = ecg_like(400, 12, 100)  # 4 s: the standard layouts pad it to 10 s
    img = opencv_renderer.render_printout(sig, 100, PTBXL_LEADS, layout)
    ref = mpl_renderer.render_printout(sig, 100, PTBXL_LEADS, layout)
    assert img.dtype == np.uint8 and img.shape == ref.shape and img.shape[2] == 3
    if LAYOUTS[layout].per_lead:
        leads = opencv_renderer.render_leads(sig, 100, PTBXL_LEADS)
        page = plan_page("lead", ["x"], 4.0, PaperStyle())
        assert leads.shape == (12, page.height_px, page.width_px, 3)
        assert np.array_equal(np.concatenate(list(leads)), img)
    else:
        page = plan_page(layout, PTBXL_LEADS, 4.0, PaperStyle())
        assert img.shape == (page.height_px, page.width_px, 3)
    # the same page: traces and grid in the same places
    assert np.abs(img.astype(int) - ref).mean() < 6.0


def test_standard_layouts_always_show_10_s():
    short = opencv_renderer.render_printout(ecg_like(300, 12, 100), 100, PTBXL_LEADS, "3x4_rhythm")
    long = opencv_renderer.render_printout(ecg_like(1500, 12, 100), 100, PTBXL_LEADS, "3x4_rhythm")
    assert short.shape == long.shape
    head = ecg_like(1500, 12, 100)
    assert np.array_equal(opencv_renderer.render_printout(head, 100, PTBXL_LEADS, "3x4"),
                          opencv_renderer.render_printout(head[:1001], 100, PTBXL_LEADS, "3x4"))


def test_deterministic_and_lead_names_any_case():
    sig = ecg_like(500, 12, 100, seed=3)
    a = opencv_renderer.render_printout(sig, 100, PTBXL_LEADS, "3x4")
    b = opencv_renderer.render_printout(sig.copy(), 100, [n.replace("AV", "aV") for n in PTBXL_LEADS], "3x4")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, opencv_renderer.render_printout(sig * 1.5, 100, PTBXL_LEADS, "3x4"))
    # every layout prints the standard spelling (PTB-XL's AVR as aVR)
    lower = [n.replace("AV", "aV") for n in PTBXL_LEADS]
    assert np.array_equal(opencv_renderer.render_printout(sig, 100, PTBXL_LEADS, "stack"),
                          opencv_renderer.render_printout(sig, 100, lower, "stack"))
    assert display_name("AVF") == "aVF" and display_name("ECG") == "ECG"


def test_dpi_and_width():
    style = PaperStyle(dpi=dpi_for_width("3x4", 800))
    img = opencv_renderer.render_printout(ecg_like(1000, 12, 100), 100, PTBXL_LEADS, "3x4", style)
    assert img.shape[1] == 800
    thick = opencv_renderer.render_printout(ecg_like(1000, 12, 100), 100, PTBXL_LEADS, "3x4",
                                            PaperStyle(line_width_px=3, trace_color=(0, 0, 255)))
    assert (np.all(thick == (0, 0, 255), axis=-1)).sum() > (np.all(img == (0, 0, 0), axis=-1)).sum()


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="lead aVR is not among"):
        opencv_renderer.render_printout(ecg_like(100, 1, 100), 100, ["I"], "3x4")
    with pytest.raises(ValueError, match="2 leads but 1 lead names"):
        opencv_renderer.render_printout(ecg_like(100, 2, 100), 100, ["I"], "stack")
    with pytest.raises(KeyError, match="valid layouts: 3x4"):
        opencv_renderer.render_printout(ecg_like(100, 1, 100), 100, ["I"], "4x3")
    with pytest.raises(ValueError, match="grid must be one of"):
        PaperStyle(grid="blue")


# ---- photo augmentations ----

@pytest.fixture(scope="module")
def printout():
    return opencv_renderer.render_printout(ecg_like(1000, 12, 100), 100, PTBXL_LEADS, "3x4",
                                           PaperStyle(dpi=40))


@pytest.mark.parametrize("preset", ["default", "shadows_perspective"])
def test_augment_is_seeded(printout, preset):
    cfg = get_preset(preset)
    a = augment_photo(printout, cfg, 7)
    assert a.dtype == np.uint8 and a.shape == printout.shape
    assert np.array_equal(a, augment_photo(printout, cfg, 7))
    outs = [augment_photo(printout, cfg, s) for s in range(6)]
    assert len({o.tobytes() for o in outs}) == 6  # every seed its own photo
    assert not np.array_equal(a, printout)


def test_default_preset_varies_which_effects_apply(printout):
    """Each effect is drawn on its own: some seeds change much, some little (not all-or-none)."""
    diffs = [np.abs(augment_photo(printout, get_preset("default"), s).astype(int) - printout).mean()
             for s in range(12)]
    assert len({round(d, 3) for d in diffs}) >= 10


def test_none_is_identity_and_shadows_darken(printout):
    assert np.array_equal(augment_photo(printout, PhotoAugment.none(), 3), printout)
    shaded = augment_photo(printout, PhotoAugment(shadow_p=1.0), 3)
    assert shaded.mean() < printout.mean() - 1
    creased = augment_photo(printout, PhotoAugment(crease_p=1.0), 3)
    assert creased.mean() < printout.mean() and creased.shape == printout.shape


def test_augment_batch_and_tf(printout):
    tf = pytest.importorskip("tensorflow")
    from ecgtf.render.photo import augment_photo_tf

    batch = np.stack([printout, printout])
    cfg = get_preset("default")
    out = augment_batch(batch, cfg, 5)
    assert not np.array_equal(out[0], out[1])
    ds = tf.data.Dataset.from_tensors(batch).map(lambda x: augment_photo_tf(x, cfg, 5))
    got = next(iter(ds)).numpy()
    assert np.array_equal(got, out)
    single = augment_photo_tf(tf.constant(printout), cfg, tf.constant(9, tf.int64))
    assert single.shape == printout.shape
    assert np.array_equal(single.numpy(), augment_photo(printout, cfg, 9))


def test_bad_augment_input():
    with pytest.raises(ValueError, match="uint8"):
        augment_photo(np.zeros((4, 4, 3), np.float32), get_preset("default"), 0)
    with pytest.raises(KeyError, match="valid: none, default"):
        get_preset("heavy")
    with pytest.raises(ValueError, match="probability"):
        PhotoAugment(shadow_p=2.0)
