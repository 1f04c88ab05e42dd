"""Class-activation heatmaps for every model family: Grad-CAM, Grad-CAM++ and saliency.

One entry point, :func:`gradcam`, for flat functional models of two kinds:

* 1-D raw-signal models, input ``(batch, samples, leads)``: ``tf.GradientTape`` on the
  output of a temporal layer ``(batch, steps, channels)``; heatmaps over time,
  upsampled by linear interpolation to ``(batch, samples)``.
* 2-D models (spectrogram or image input ``(batch, H, W, C)``): tf-keras-vis
  ``Gradcam`` / ``GradcamPlusPlus`` / ``Saliency`` (checked with Keras 3.15 and
  TF 2.21); heatmaps ``(batch, H, W)``.
* sequence-of-images models (per-lead printouts ``(batch, leads, H, W, C)``, e.g.
  ``convlstm_leads``): ``tf.GradientTape`` on a layer with per-lead maps
  ``(batch, leads, h, w, channels)``, channel weights pooled over each lead's own map, so every
  lead gets its own heatmap; ``(batch, leads, H, W)``, one scale for all leads of an example.

Scores are the pre-activation logits of the ``predictions`` layer (the model contract's
last ``Dense``), so a saturated softmax or sigmoid does not flatten the gradients.
1-D models read the logits through the ``predictions`` layer's kernel and bias; for
2-D models tf-keras-vis' ``ReplaceToLinear`` swaps the last activation for linear on
a clone (never the caller's model). Sequential models (where that swap is unsafe) are
scored on their probabilities instead. A binary model (one sigmoid unit) explains
class 1 with ``+logit`` and class 0 with ``-logit``.

Every heatmap is scaled to [0, 1] by its own maximum (all zeros when the class has no
positive evidence).

A 1-D heatmap is the same for every lead. Which lead mattered comes from
:func:`lead_attribution`: integrated gradients (or gradient x input) of the same class
score with respect to the input, summed over time per lead, signed and unnormalised;
:func:`input_attribution` gives the per-sample map ``(batch, samples, leads)``.

References:
    Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
    Gradient-based Localization", ICCV 2017.
    Chattopadhyay et al., "Grad-CAM++: Improved Visual Explanations for Deep
    Convolutional Networks", WACV 2018.
    Simonyan et al., "Deep Inside Convolutional Networks: Visualising Image
    Classification Models and Saliency Maps", ICLR workshop 2014.
    Sundararajan et al., "Axiomatic Attribution for Deep Networks", ICML 2017.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

#: Layer types that never make a useful Grad-CAM target even with the right rank.
_SKIP_LAYERS = (keras.layers.InputLayer, keras.layers.Dropout, keras.layers.SpatialDropout1D,
                keras.layers.SpatialDropout2D)


# --------------------------------------------------------------------------- helpers


def spatial_rank(model: keras.Model) -> int:
    """1 for raw-signal models (input ``(batch, samples, leads)``), 2 for image models, 3 for
    sequences of images (``(batch, leads, H, W, C)``).

    Raises:
        ValueError: the model does not have a single 3-D, 4-D or 5-D input.
    """
    if len(model.inputs) != 1:
        raise ValueError(f"Grad-CAM needs a single-input model; {model.name} has {len(model.inputs)} inputs")
    rank = len(model.inputs[0].shape)
    if rank not in (3, 4, 5):
        raise ValueError(f"Grad-CAM supports inputs (batch, samples, leads), (batch, H, W, C) or "
                         f"(batch, leads, H, W, C); "
                         f"{model.name} takes {tuple(model.inputs[0].shape)}")
    return rank - 2


MIN_CELLS = 4  # least map size per spatial axis for the default Grad-CAM layer


def candidate_layers(model: keras.Model) -> list[str]:
    """Names of the layers Grad-CAM can target, in model order.

    A candidate has an output of the input's rank (``(batch, steps, channels)`` for 1-D
    models, ``(batch, h, w, channels)`` for 2-D models) and is not the input or a dropout.
    """
    rank = len(model.inputs[0].shape)
    names = []
    for layer in model.layers:
        if isinstance(layer, _SKIP_LAYERS) or isinstance(layer, keras.Model):
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # layers used more than once, or not built
            continue
        if len(shape) == rank:
            names.append(layer.name)
    return names


def find_layer(model: keras.Model, layer: str | keras.layers.Layer | None = None) -> keras.layers.Layer:
    """The Grad-CAM target layer: ``layer`` (name or object) or the default.

    The default is the last candidate (:func:`candidate_layers`) whose map still has at
    least ``MIN_CELLS`` cells along every spatial axis: the last convolution or activation
    before global pooling, unless the network has pooled the input down to a map too small
    to localise anything (InceptionResNetV2 at 75x75 ends in 1x1 maps; its default is then
    the last 7x7 block). Pass ``layer`` to choose another.

    Raises:
        ValueError: ``layer`` is not a candidate; the message lists the candidates.
    """
    names = candidate_layers(model)
    if not names:
        raise ValueError(f"{model.name} has no layer with a {len(model.inputs[0].shape)}-D output to explain; "
                         "is it a flat functional model (no nested backbone)?")
    if layer is None:
        for candidate in reversed(names):
            spatial = model.get_layer(candidate).output.shape[1:-1]
            if all(d is None or d >= MIN_CELLS for d in spatial):
                return model.get_layer(candidate)
        return model.get_layer(names[-1])
    name = layer if isinstance(layer, str) else layer.name
    if name not in names:
        shown = names[-15:]
        more = f" (last {len(shown)} of {len(names)})" if len(names) > len(shown) else ""
        raise ValueError(f"layer {name!r} cannot be explained in {model.name}; candidate layers{more}: "
                         f"{', '.join(shown)}")
    return model.get_layer(name)


def predicted_classes(probs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Predicted class per example, ``(batch,)`` int.

    Args:
        probs: model outputs ``(batch, outputs)``; one output means a binary model
            (class 1 when ``p >= threshold``), otherwise the arg-max.
        threshold: binary decision threshold.
    """
    probs = np.asarray(probs)
    if probs.shape[-1] == 1:
        return (probs[:, 0] >= threshold).astype(int)
    return probs.argmax(axis=-1).astype(int)


def _class_indices(class_index, probs: np.ndarray) -> np.ndarray:
    batch, outputs = probs.shape
    if class_index is None:
        return predicted_classes(probs)
    idx = np.broadcast_to(np.asarray(class_index, dtype=int), (batch,)).copy()
    top = 1 if outputs == 1 else outputs - 1
    if idx.min() < 0 or idx.max() > top:
        raise ValueError(f"class_index must be in 0..{top} for a model with {outputs} output(s), got {class_index}")
    return idx


def _class_score(out: tf.Tensor, classes: tf.Tensor, outputs: int) -> tf.Tensor:
    """``(batch,)`` score of class ``classes[i]`` in row ``i`` of ``out (batch, outputs)``.

    One output (binary sigmoid): ``+out`` for class 1, ``-out`` for class 0.
    """
    out = tf.cast(out, tf.float32)
    classes = tf.cast(classes, tf.int32)
    if outputs == 1:
        return (2.0 * tf.cast(classes, tf.float32) - 1.0) * out[:, 0]
    return tf.gather(out, classes, axis=1, batch_dims=1)


def _score_fn(classes: np.ndarray, outputs: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """``score(scores (batch, outputs)) -> (batch,)``: the explained class's logit."""
    idx = tf.constant(np.asarray(classes), tf.int32)
    return lambda out: _class_score(out, idx, outputs)


def _normalize(maps: np.ndarray) -> np.ndarray:
    """Scales each map of ``(batch, ...)`` to [0, 1] by its own maximum (NaN-free)."""
    maps = np.maximum(np.nan_to_num(np.asarray(maps, np.float32)), 0.0)
    peak = maps.reshape(len(maps), -1).max(axis=1)
    scale = np.where(peak > 0, peak, 1.0).reshape((-1,) + (1,) * (maps.ndim - 1))
    return (maps / scale).astype(np.float32)


def upsample_1d(cam: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of ``(batch, steps)`` maps to ``(batch, length)``.

    Step ``t`` of ``steps`` is placed at the centre of the input span it covers,
    ``(t + 0.5) * length / steps - 0.5``; values are held constant beyond the end steps.
    """
    cam = np.asarray(cam, np.float32)
    steps = cam.shape[1]
    centres = (np.arange(steps) + 0.5) * length / steps - 0.5
    grid = np.arange(length)
    return np.stack([np.interp(grid, centres, row) for row in cam]).astype(np.float32)


# --------------------------------------------------------------------------- 1-D (GradientTape)


def _logit_model(model: keras.Model, layer) -> tuple[keras.Model, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]:
    """A model ``x -> [layer output (or x), pre-head features]`` and ``to_scores(feats, probs)``."""
    try:
        head = model.get_layer("predictions")
    except ValueError:
        head = None
    if isinstance(head, keras.layers.Dense) and head is model.layers[-1]:
        outputs = [layer.output if layer is not None else model.inputs[0], head.input]

        def to_scores(feats):
            return tf.matmul(feats, head.kernel) + (head.bias if head.use_bias else 0.0)
    else:  # no contract head: explain the probabilities
        outputs = [layer.output if layer is not None else model.inputs[0], model.outputs[0]]

        def to_scores(out):
            return out
    return keras.Model(model.inputs, outputs), to_scores


def _tape_1d(model, x, classes, layer, watch_input: bool):
    """``(target values, d score / d target)`` with target = the layer output or the input.

    Runs as a ``tf.function``: eager gradients through strided ``Conv1D`` layers crash
    the process (heap corruption) with oneDNN in TF 2.21 on CPU; graph mode does not.
    """
    sub, to_scores = _logit_model(model, None if watch_input else layer)
    score = _score_fn(classes, int(model.outputs[0].shape[-1]))

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            if watch_input:
                tape.watch(x)
                _, feats = sub(x, training=False)
                target = x
            else:
                target, feats = sub(x, training=False)
            s = score(to_scores(feats))
        return target, tape.gradient(s, target)

    target, grads = run(tf.convert_to_tensor(x, tf.float32))
    return target.numpy(), grads.numpy()


def _gradcam_1d(model, x, classes, layer):
    acts, grads = _tape_1d(model, x, classes, layer, watch_input=False)
    weights = grads.mean(axis=1, keepdims=True)                    # (batch, 1, channels)
    cam = np.maximum((weights * acts).sum(axis=-1), 0.0)           # (batch, steps)
    return upsample_1d(cam, x.shape[1])


def _gradcam_pp_1d(model, x, classes, layer):
    acts, grads = _tape_1d(model, x, classes, layer, watch_input=False)
    g2, g3 = grads ** 2, grads ** 3
    denom = 2.0 * g2 + acts.sum(axis=1, keepdims=True) * g3
    alpha = g2 / np.where(denom != 0.0, denom, 1.0)
    weights = (alpha * np.maximum(grads, 0.0)).sum(axis=1, keepdims=True)
    cam = np.maximum((weights * acts).sum(axis=-1), 0.0)
    return upsample_1d(cam, x.shape[1])


def _saliency_1d(model, x, classes, layer):
    _, grads = _tape_1d(model, x, classes, layer, watch_input=True)
    return np.abs(grads).max(axis=-1)


# --------------------------------------------------------------------------- 2-D (tf-keras-vis)


def _vis_kwargs(model):
    """``(model_modifier, clone)`` for tf-keras-vis: linear last activation on a clone."""
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear

    last = model.layers[-1]
    if isinstance(model, keras.Sequential) or not hasattr(last, "activation"):
        return {"model_modifier": None, "clone": False}
    return {"model_modifier": ReplaceToLinear(), "clone": True}


def _gradcam_2d(model, x, classes, layer, plus_plus: bool = False):
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus

    cls = GradcamPlusPlus if plus_plus else Gradcam
    explainer = cls(model, **_vis_kwargs(model))
    score = _score_fn(classes, int(model.outputs[0].shape[-1]))
    cam = explainer(score, x, penultimate_layer=layer.name, normalize_cam=False, expand_cam=True)
    return np.asarray(cam)


def _gradcam_pp_2d(model, x, classes, layer):
    return _gradcam_2d(model, x, classes, layer, plus_plus=True)


def _saliency_2d(model, x, classes, layer):
    from tf_keras_vis.saliency import Saliency

    explainer = Saliency(model, **_vis_kwargs(model))
    score = _score_fn(classes, int(model.outputs[0].shape[-1]))
    return np.asarray(explainer(score, x, normalize_map=False))  # max |grad| over channels


# --------------------------------------------------------------------------- sequences of images (GradientTape)


def upsample_seq(cam: np.ndarray, size) -> np.ndarray:
    """Bilinear resize of per-lead maps ``(batch, leads, h, w)`` to ``(batch, leads, *size)``."""
    cam = np.asarray(cam, np.float32)
    batch, leads = cam.shape[:2]
    flat = tf.image.resize(cam.reshape((batch * leads,) + cam.shape[2:] + (1,)), tuple(int(s) for s in size),
                           method="bilinear")
    return np.asarray(flat)[..., 0].reshape((batch, leads) + tuple(int(s) for s in size))


def _gradcam_seq(model, x, classes, layer, plus_plus: bool = False):
    acts, grads = _tape_1d(model, x, classes, layer, watch_input=False)      # (batch, leads, h, w, channels)
    if plus_plus:
        g2, g3 = grads ** 2, grads ** 3
        denom = 2.0 * g2 + acts.sum(axis=(2, 3), keepdims=True) * g3
        alpha = g2 / np.where(denom != 0.0, denom, 1.0)
        weights = (alpha * np.maximum(grads, 0.0)).sum(axis=(2, 3), keepdims=True)
    else:
        weights = grads.mean(axis=(2, 3), keepdims=True)                    # per lead and channel
    cam = np.maximum((weights * acts).sum(axis=-1), 0.0)                     # (batch, leads, h, w)
    return upsample_seq(cam, x.shape[2:4])


def _gradcam_pp_seq(model, x, classes, layer):
    return _gradcam_seq(model, x, classes, layer, plus_plus=True)


def _saliency_seq(model, x, classes, layer):
    _, grads = _tape_1d(model, x, classes, layer, watch_input=True)
    return np.abs(grads).max(axis=-1)


@dataclasses.dataclass(frozen=True)
class _Method:
    one_d: Callable
    two_d: Callable
    seq: Callable
    needs_layer: bool = True


#: Explanation methods by name; the keys are the valid ``method`` values.
METHODS = {
    "gradcam": _Method(_gradcam_1d, _gradcam_2d, _gradcam_seq),
    "gradcam++": _Method(_gradcam_pp_1d, _gradcam_pp_2d, _gradcam_pp_seq),
    "saliency": _Method(_saliency_1d, _saliency_2d, _saliency_seq, needs_layer=False),
}


def gradcam(model: keras.Model, inputs, class_index=None, layer=None, method: str = "gradcam") -> np.ndarray:
    """Heatmaps of where ``model`` finds evidence for a class, at input resolution.

    Args:
        model: a flat functional Keras model with input ``(batch, samples, leads)``
            (raw signals, mV), ``(batch, H, W, C)`` (spectrogram or ECG images) or
            ``(batch, leads, H, W, C)`` (per-lead printouts).
        inputs: a batch in the model's input layout (already prepared as in training).
        class_index: the class to explain: an int or one per example ``(batch,)``; None
            takes each example's predicted class. Binary models (one output) take 0 or 1.
        layer: target layer name or object for Grad-CAM(++); None takes the last layer
            with a temporal/spatial output (see :func:`candidate_layers`). Ignored by
            ``saliency``.
        method: a key of :data:`METHODS`: ``"gradcam"``, ``"gradcam++"`` or ``"saliency"``
            (``|d score / d input|``, maximum over channels/leads).

    Returns:
        ``(batch, samples)`` for 1-D models, ``(batch, H, W)`` for 2-D models or
        ``(batch, leads, H, W)`` for sequences of images, float32 in [0, 1].

    Raises:
        ValueError: unknown method, bad ``layer`` (lists the candidates) or class index.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    rank = spatial_rank(model)
    x = np.asarray(inputs, dtype=np.float32)
    if x.ndim != rank + 2:
        raise ValueError(f"inputs must be a batch shaped like {tuple(model.inputs[0].shape)}, got {x.shape}")
    spec = METHODS[method]
    target = find_layer(model, layer) if spec.needs_layer else None
    probs = np.asarray(model(x, training=False))
    classes = _class_indices(class_index, probs)
    fn = {1: spec.one_d, 2: spec.two_d, 3: spec.seq}[rank]
    return _normalize(fn(model, x, classes, target))


# --------------------------------------------------------------------------- input attributions


#: Valid ``method`` values of :func:`input_attribution` and :func:`lead_attribution`.
ATTRIBUTION_METHODS = ("integrated_gradients", "gradient_x_input")

#: Most rows (examples x interpolation steps) sent through the model per gradient call.
ROWS_PER_CALL = 64


def _input_gradient_fn(model: keras.Model) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``grad(x, classes) -> d score / d x`` for a batch, each row scored on its own class.

    Graph mode (``tf.function``) for the reason given in :func:`_tape_1d`; the batch axis
    is left open so every call shares one trace.
    """
    sub, to_scores = _logit_model(model, None)
    outputs = int(model.outputs[0].shape[-1])
    spec = tf.TensorSpec((None,) + tuple(model.inputs[0].shape[1:]), tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def grad(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, feats = sub(x, training=False)
            score = _class_score(to_scores(feats), classes, outputs)
        return tape.gradient(score, x)

    return lambda x, classes: grad(tf.constant(x, tf.float32), tf.constant(classes, tf.int32)).numpy()


def input_attribution(model: keras.Model, inputs, class_index=None, method: str = "integrated_gradients",
                      steps: int = 32, baseline=None) -> np.ndarray:
    """Signed attribution of the explained class's score to every input value.

    ``integrated_gradients`` (Sundararajan et al., "Axiomatic Attribution for Deep
    Networks", ICML 2017) averages the gradient of the score along the straight path
    from ``baseline`` to the input (``steps`` midpoints) and multiplies it by
    ``input - baseline``; the attributions of one example then sum to
    ``score(input) - score(baseline)`` up to the quadrature error.
    ``gradient_x_input`` is ``(input - baseline) * d score / d input`` at the input
    alone (one gradient call; exact integrated gradients for a model linear in its input).

    The score follows :func:`gradcam`: the pre-activation logit of the ``predictions``
    layer when the model ends in that ``Dense`` layer, otherwise the model's output;
    for a binary model (one output) class 1 is explained by ``+logit`` and class 0 by
    ``-logit``. Positive values push towards the explained class, negative values away.

    Args:
        model: a single-input Keras model (functional or Sequential), e.g. a raw-signal
            model with input ``(batch, samples, leads)``.
        inputs: a batch in the model's input layout (already prepared as in training).
        class_index: the class to explain: an int or one per example ``(batch,)``; None
            takes each example's predicted class (threshold 0.5 for binary models).
        method: one of :data:`ATTRIBUTION_METHODS`.
        steps: integration steps of ``integrated_gradients`` (ignored by ``gradient_x_input``).
        baseline: the reference input, broadcastable to ``inputs``; None is all zeros
            (for standardised inputs: the mean signal, i.e. a flat line).

    Returns:
        ``inputs``' shape, float32, unnormalised (units of the score).

    Raises:
        ValueError: unknown method, ``steps < 1``, inputs not shaped like the model's
            input, or a bad class index.
    """
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f"unknown attribution method {method!r}; valid: {', '.join(ATTRIBUTION_METHODS)}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if len(model.inputs) != 1:
        raise ValueError(f"attribution needs a single-input model; {model.name} has {len(model.inputs)} inputs")
    x = np.asarray(inputs, dtype=np.float32)
    if x.ndim != len(model.inputs[0].shape):
        raise ValueError(f"inputs must be a batch shaped like {tuple(model.inputs[0].shape)}, got {x.shape}")
    base = np.zeros_like(x) if baseline is None else np.broadcast_to(np.asarray(baseline, np.float32), x.shape)
    classes = _class_indices(class_index, np.asarray(model(x, training=False))).astype(np.int32)
    grad = _input_gradient_fn(model)
    delta = x - base
    if method == "gradient_x_input":
        return (delta * grad(x, classes)).astype(np.float32)
    batch = len(x)
    alphas = (np.arange(int(steps), dtype=np.float32) + 0.5) / int(steps)   # midpoint rule on [0, 1]
    per_call = max(1, ROWS_PER_CALL // max(batch, 1))
    total = np.zeros_like(x)
    for start in range(0, len(alphas), per_call):
        a = alphas[start:start + per_call].reshape((-1,) + (1,) * x.ndim)
        path = (base[None] + a * delta[None]).reshape((-1,) + x.shape[1:])   # (chunk * batch, ...)
        g = grad(path, np.tile(classes, len(a)))
        total += g.reshape((len(a),) + x.shape).sum(axis=0)
    return (delta * total / len(alphas)).astype(np.float32)


def lead_attribution(model: keras.Model, inputs, class_index=None, method: str = "integrated_gradients",
                     steps: int = 32, baseline=None) -> np.ndarray:
    """How much each lead of a raw-signal input contributed to the explained class.

    The signed sum over time of :func:`input_attribution`, one value per lead: positive
    leads push towards the explained class, negative ones away from it. With integrated
    gradients the leads of one example add up to ``score(input) - score(baseline)``
    (logit units), so the values compare across leads of one example and show how the
    evidence is shared; large opposite contributions within a lead partly cancel (take
    ``abs`` of :func:`input_attribution` for a sign-free magnitude).

    Args:
        model: a raw-signal model with input ``(batch, samples, leads)``.
        inputs: ``(batch, samples, leads)`` as the model takes it.
        class_index, method, steps, baseline: as in :func:`input_attribution`.

    Returns:
        ``(batch, leads)`` float32.

    Raises:
        ValueError: the model does not take ``(batch, samples, leads)``, or as
            :func:`input_attribution`.
    """
    if spatial_rank(model) != 1:
        raise ValueError(f"lead attribution needs a raw-signal model with input (batch, samples, leads); "
                         f"{model.name} takes {tuple(model.inputs[0].shape)}")
    attributions = input_attribution(model, inputs, class_index=class_index, method=method, steps=steps,
                                     baseline=baseline)
    return attributions.sum(axis=1).astype(np.float32)
