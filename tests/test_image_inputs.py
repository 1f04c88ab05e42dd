"""Printout input kinds (``image``, ``lead_images``): options, prepare block, rendering, tf.data, end to end."""

import os
import sys

import cv2
import keras
import numpy as np
import pandas as pd
import pytest

from ecgtf.data import images as imagelib
from ecgtf.inputs.layers import ImageToInput
from ecgtf.inputs.specs import (INPUT_SPECS, ImageOptions, LeadImagesOptions, build_prepare, input_shape_of,
                                is_graph_only, split_options)
from ecgtf.models.registry import get_entry

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import evaluate as evaluate_script  # noqa: E402
import gradcam as gradcam_script  # noqa: E402
import train as train_script  # noqa: E402

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
RATE = 100.0


class FakeData:
    """The part of ``LoadedData`` the image pipeline reads: 3 records, one shorter than 10 s."""

    def __init__(self):
        rng = np.random.default_rng(0)
        t = np.arange(1000) / RATE
        base = 0.8 * np.sin(2 * np.pi * 1.2 * t)[:, None] * np.linspace(0.3, 1.0, 12)[None]
        self.signals = [(base + 0.05 * rng.standard_normal((1000, 12))).astype(np.float32),
                        (-base).astype(np.float32), base[:700].astype(np.float32)]
        self.labels = np.eye(2, dtype=np.int8)[[0, 1, 0]]
        self.sampling_rate, self.lead_names = RATE, LEADS
        self.meta = pd.DataFrame({"record_id": ["r0", "r1", "r2"]})

    def __len__(self):
        return 3

    def signal(self, i):
        return self.signals[i]


def _image(signal, options=ImageOptions(dpi=25.0)):
    return imagelib.record_image(signal, options, sampling_rate=RATE, lead_names=LEADS, window_samples=1000)


def test_options_are_typed_and_checked():
    opts, builder = split_options(get_entry("mobilenetv3_small_custom"), {"image_size": [40, 80], "width": 0.5,
                                                                          "layout": "stack"})
    assert opts == ImageOptions(image_size=(40, 80), layout="stack") and builder == {"width": 0.5}
    with pytest.raises(ValueError, match="layout"):
        ImageOptions(layout="4x3")
    with pytest.raises(ValueError, match="photo_augment preset 'shadow'.*shadows_perspective"):
        ImageOptions(photo_augment="shadow")
    with pytest.raises(ValueError, match="layout is an option of the image input"):
        split_options(get_entry("convlstm_leads"), {"layout": "3x4"})


def test_image_prepare_resizes_rescales_and_saves(tmp_path):
    for kind, n_leads in (("image", 12), ("lead_images", 3)):
        opts = INPUT_SPECS[kind].options(image_size=(20, 30))
        prepare = build_prepare(kind, opts, sampling_rate=RATE, window_samples=1000, n_leads=n_leads,
                                standardize=True)
        assert is_graph_only(prepare)
        shape = (2, 40, 60, 3) if kind == "image" else (2, n_leads, 40, 60, 3)
        assert input_shape_of(prepare) == shape[1:-3] + (20, 30, 3)
        x = np.random.default_rng(1).integers(0, 256, shape).astype(np.uint8)
        out = np.asarray(prepare(x))
        assert out.shape == shape[:-3] + (20, 30, 3) and 0.0 <= out.min() and out.max() <= 1.0
        flat = np.full(shape, 102, np.uint8)  # a uniform printout stays uniform: 102 / 255 = 0.4
        np.testing.assert_allclose(np.asarray(prepare(flat)), 0.4, atol=1e-5)
        import tensorflow as tf

        images = x.reshape((-1, 40, 60, 3)).astype(np.float32)  # each lead image resized on its own
        expected = tf.image.resize(images, (20, 30), antialias=True).numpy() / 255.0
        np.testing.assert_allclose(out.reshape((-1, 20, 30, 3)), expected, atol=1e-5)
        path = str(tmp_path / f"{kind}.keras")
        prepare.save(path)
        np.testing.assert_allclose(np.asarray(keras.models.load_model(path)(x)), out, atol=1e-6)
    layer = ImageToInput((8, 8))
    same = np.full((1, 8, 8, 3), 51, np.uint8)
    np.testing.assert_allclose(np.asarray(layer(same)), 0.2, atol=1e-6)  # at size: scaling only


def test_record_image_is_deterministic_and_pads_short_records():
    data = FakeData()
    first = _image(data.signal(0))
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[-1] == 3
    np.testing.assert_array_equal(first, _image(data.signal(0)))
    assert not np.array_equal(first, _image(data.signal(1)))
    padded = np.zeros((1000, 12), np.float32)
    padded[:700] = data.signal(2)
    np.testing.assert_array_equal(_image(data.signal(2)), _image(padded))  # zeros at the end, like a printout
    assert imagelib.image_shape(ImageOptions(dpi=25.0), sampling_rate=RATE, lead_names=LEADS,
                                window_samples=1000) == first.shape
    leads = _image(data.signal(0), LeadImagesOptions(dpi=25.0))
    assert leads.ndim == 4 and leads.shape[0] == 12


def test_dataset_renders_on_the_fly_and_augments_only_training():
    data = FakeData()
    opts = ImageOptions(dpi=25.0, photo_augment="shadows_perspective")
    ds = imagelib.make_image_dataset(data, [0, 1, 2], options=opts, window_samples=1000, batch_size=3,
                                     training=False)
    x, y = next(iter(ds))
    assert x.dtype == "uint8"
    for i in range(3):
        np.testing.assert_array_equal(x[i].numpy(), _image(data.signal(i)))
    np.testing.assert_array_equal(y.numpy(), data.labels)
    train = imagelib.make_image_dataset(data, [0, 1, 2], options=opts, window_samples=1000, batch_size=3,
                                        training=True, seed=2)
    epoch1, epoch2 = [np.sort(b[0].numpy().reshape(3, -1), axis=0) for b in (next(iter(train)), next(iter(train)))]
    plain = np.sort(x.numpy().reshape(3, -1), axis=0)
    assert not np.array_equal(epoch1, plain) and not np.array_equal(epoch1, epoch2)  # photographed anew each epoch
    kept = imagelib.make_image_dataset(data, [0, 2], options=ImageOptions(dpi=25.0), window_samples=1000,
                                       batch_size=2, training=False, keep_in_memory=True)
    for _ in range(2):  # the first pass renders, the second reads what it kept
        np.testing.assert_array_equal(next(iter(kept))[0].numpy(), x.numpy()[[0, 2]])


def _write_folder(folder, data, options):
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    rows = []
    for i, rid in enumerate(data.meta["record_id"]):
        image = _image(data.signal(i), options)
        path = os.path.join("images", f"{rid}.png")
        cv2.imwrite(os.path.join(folder, path), np.ascontiguousarray(image.reshape(-1, *image.shape[-2:])[..., ::-1]))
        rows.append({"record_id": rid, "labels": "", "y_MI": int(data.labels[i, 1]), "path": path})
    pd.DataFrame(rows).to_csv(os.path.join(folder, "manifest.csv"), index=False)


@pytest.mark.parametrize("options", [ImageOptions(dpi=25.0), LeadImagesOptions(dpi=25.0)])
def test_rendered_folder_gives_the_same_pixels(tmp_path, options):
    import dataclasses

    data = FakeData()
    _write_folder(str(tmp_path), data, options)
    on_the_fly = imagelib.make_image_dataset(data, [2, 0], options=options, window_samples=1000, batch_size=2,
                                             training=False)
    from_folder = imagelib.make_image_dataset(data, [2, 0], options=dataclasses.replace(options, source=str(tmp_path)),
                                              window_samples=1000, batch_size=2, training=False)
    np.testing.assert_array_equal(next(iter(on_the_fly))[0].numpy(), next(iter(from_folder))[0].numpy())
    other = dataclasses.replace(options, source=str(tmp_path), dpi=30.0)
    with pytest.raises(ValueError, match="other settings"):
        imagelib.make_image_dataset(data, [0], options=other, window_samples=1000, batch_size=1, training=False)
    with pytest.raises(FileNotFoundError, match="not in"):
        data.meta.loc[1, "record_id"] = "unknown"
        imagelib.make_image_dataset(data, [1], options=dataclasses.replace(options, source=str(tmp_path)),
                                    window_samples=1000, batch_size=1, training=False)


@pytest.fixture(scope="module")
def printout_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("printout")
    argv = ["--model", "mobilenetv3_small_custom", "--dataset", "synthetic", "--task", "mi_vs_norm",
            "--synthetic-n", "24", "--data-dir", str(tmp / "data"), "--cache-dir", str(tmp / "cache"),
            "--sampling-rate", "100", "--epochs", "1", "--batch-size", "8", "--option", "image_size=[48,96]",
            "--option", "dpi=25", "--option", "photo_augment=default", "--out", str(tmp / "run"), "--verbose", "0"]
    keras.utils.set_random_seed(0)
    train_script.main(argv)
    return tmp


def test_printout_run_trains_evaluates_and_explains(printout_run, capsys):
    from ecgtf.training.saved import load_run

    run_dir = str(printout_run / "run")
    run = load_run(run_dir)
    assert run.spec.input_kind == "image" and run.spec.printout and run.spec.input_options["dpi"] == 25.0
    assert run.model.inputs[0].shape[1:] == (None, None, 3)  # model.keras takes printouts of any size
    evaluate_script.main(["--run", run_dir, "--split", "val", "--out", str(printout_run / "ev.json")])
    saved = pd.read_csv(os.path.join(run_dir, "predictions.csv"), dtype={"record_id": str})
    again = pd.read_csv(printout_run / "ev_predictions.csv", dtype={"record_id": str})
    np.testing.assert_allclose(again.filter(like="prob_").to_numpy(), saved.filter(like="prob_").to_numpy(), atol=1e-5)
    out = printout_run / "cam.png"
    gradcam_script.main(["--run", run_dir, "--input", saved["record_id"].iloc[0], "--out", str(out)])
    assert out.stat().st_size > 1000 and "3x4 printout" not in capsys.readouterr().err


def test_lead_images_run_explains_each_lead(printout_run):
    from ecgtf.explain import gallery

    tmp = printout_run  # the same synthetic records and cache as the image run
    argv = ["--model", "convlstm_leads", "--dataset", "synthetic", "--task", "mi_vs_norm", "--synthetic-n", "24",
            "--data-dir", str(tmp / "data"), "--cache-dir", str(tmp / "cache"), "--sampling-rate", "100",
            "--epochs", "1", "--batch-size", "8", "--option", "image_size=[16,64]", "--option", "dpi=20",
            "--option", "stem_filters=[4]", "--option", "lstm_filters=4", "--out", str(tmp / "leads"),
            "--verbose", "0"]
    keras.utils.set_random_seed(0)
    train_script.main(argv)
    explainer = gallery.load_explainer(str(tmp / "leads"))
    assert explainer.run.model.inputs[0].shape[1:] == (12, None, None, 3)
    record = pd.read_csv(tmp / "leads" / "predictions.csv", dtype={"record_id": str})["record_id"].iloc[0]
    _, signal = gallery.load_input(explainer, record)
    window, x = gallery.model_input(explainer, signal)
    assert x.shape == (1, 12, 16, 64, 3) and window.shape == (1000, 12)
    row = gallery.explain_one(explainer, record, str(tmp / "leads_cam.png"))
    assert row["record_id"] == record and (tmp / "leads_cam.png").stat().st_size > 1000


def _shadowed(image, factor=0.45):
    """``image`` with a cast shadow over a polygon (the paper multiplied by ``factor``), as
    albumentations' RandomShadow draws one."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.array([[w // 8, 0], [w // 2, 0], [2 * w // 3, h - 1], [w // 5, h - 1]], np.int32)], 1)
    out = image.astype(np.float32)
    out[mask == 1] *= factor
    return np.clip(out, 0, 255).astype(np.uint8)


def test_flatten_illumination_cancels_a_shadow_and_saves(tmp_path):
    clean = _image(FakeData().signal(0), ImageOptions(dpi=50.0))
    shadow = _shadowed(clean)
    size = (clean.shape[0] // 2, clean.shape[1] // 2)
    x = np.stack([clean, shadow])
    plain = np.asarray(ImageToInput(size)(x))
    flat = np.asarray(ImageToInput(size, illumination="flatten")(x))
    assert np.abs(plain[0] - plain[1]).mean() > 0.15  # the shadow as the network would see it
    assert np.abs(flat[0] - flat[1]).mean() < 0.01  # divided by the paper's brightness: gone
    assert (flat[1].min(-1) < 0.5).sum() > 0.8 * (flat[0].min(-1) < 0.5).sum() > 0  # the trace stays dark
    opts = ImageOptions(image_size=size, illumination="flatten", unzoom=True)
    prepare = build_prepare("image", opts, sampling_rate=RATE, window_samples=1000, n_leads=12, standardize=False)
    assert is_graph_only(prepare)
    path = str(tmp_path / "flatten.keras")
    prepare.save(path)
    np.testing.assert_allclose(np.asarray(keras.models.load_model(path)(x)), np.asarray(prepare(x)), atol=1e-5)
    with pytest.raises(ValueError, match="illumination 'dark'.*flatten"):
        ImageOptions(illumination="dark")
    with pytest.raises(ValueError, match="red grid"):
        LeadImagesOptions(grid="grey", unzoom=True)


def test_unzoom_measures_the_grid_and_undoes_a_photo_zoom():
    import tensorflow as tf

    from ecgtf.inputs.layers import grid_zoom, unzoom_grid
    from ecgtf.inputs.specs import grid_period_px

    options = ImageOptions(dpi=50.0)
    clean = _image(FakeData().signal(0), options).astype(np.float32)
    h, w = clean.shape[:2]
    zoomed = cv2.warpAffine(clean, np.array([[1.15, 0, -0.15 * (w - 1) / 2], [0, 1.15, -0.15 * (h - 1) / 2]]),
                            (w, h), flags=cv2.INTER_LINEAR)  # the page 15 % larger, cropped to the frame
    period = grid_period_px(options)
    assert period == 10.0
    zoom_x, zoom_y = (z.numpy() for z in grid_zoom(tf.constant(np.stack([clean, zoomed])), period))
    np.testing.assert_allclose(zoom_x, [1.0, 1.15], atol=0.025)
    np.testing.assert_allclose(zoom_y, [1.0, 1.15], atol=0.025)
    out = unzoom_grid(tf.constant(np.stack([clean, zoomed])), period).numpy()
    np.testing.assert_allclose(out[0], clean, atol=1e-3)  # a printout as printed: left as is
    blur = [cv2.GaussianBlur(im, (0, 0), 3)[h // 8:-h // 8, w // 8:-w // 8] for im in (clean, zoomed, out[1])]
    assert np.abs(blur[2] - blur[0]).mean() < 0.5 * np.abs(blur[1] - blur[0]).mean()  # the trace back in place
