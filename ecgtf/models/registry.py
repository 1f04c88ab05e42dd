"""Model registry: builders looked up by exact name.

Every builder has the signature ``build(input_shape, num_classes, *, ...) -> keras.Model``
and declares the input kind it consumes, so the trainer can build the matching pipeline.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras

INPUT_KINDS = ("raw", "median_beat", "spectrogram", "image", "lead_images")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model.

    Attributes:
        name: the exact registry name.
        builder: ``build(input_shape, num_classes, **options) -> keras.Model``.
        input_kind: one of ``INPUT_KINDS``.
        defaults: training defaults this model prefers (e.g. ``{"batch_size": 16}``).
        description: one line for ``list_models`` / ``--help``.
        unfreeze: optional ``unfreeze(model) -> model`` for a second, fine-tuning phase
            (``--unfreeze-after E``): makes the layers trainable that phase 2 trains.
    """

    name: str
    builder: Callable[..., keras.Model]
    input_kind: str
    defaults: dict
    description: str
    unfreeze: Callable[[keras.Model], keras.Model] | None = None


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, *, input_kind: str, defaults: dict | None = None, description: str = "",
                   unfreeze: Callable[[keras.Model], keras.Model] | None = None):
    """Decorator registering ``build(input_shape, num_classes, **options)`` under ``name``.

    Raises:
        ValueError: the name is taken or the input kind is unknown.
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {input_kind!r}")

    def decorator(builder):
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is already registered")
        doc = description or (builder.__doc__ or "").strip().splitlines()[0:1]
        _REGISTRY[name] = ModelEntry(
            name, builder, input_kind, dict(defaults or {}),
            doc if isinstance(doc, str) else (doc[0] if doc else ""), unfreeze,
        )
        return builder

    return decorator


def _ensure_loaded() -> None:
    # Importing the package registers every built-in model family.
    import ecgtf.models  # noqa: F401


def get_entry(name: str) -> ModelEntry:
    """Returns the registry entry for an exact ``name``; unknown names list the valid ones."""
    _ensure_loaded()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; valid names: {', '.join(list_models())}")
    return _REGISTRY[name]


def get_model(name: str, input_shape, num_classes: int, **options) -> keras.Model:
    """Builds the model registered as ``name``.

    Args:
        name: exact registry name (see :func:`list_models`).
        input_shape: input shape without the batch axis, e.g. ``(4096, 12)``.
        num_classes: number of outputs.
        **options: builder-specific keyword options.
    """
    return get_entry(name).builder(tuple(input_shape), int(num_classes), **options)


def list_models(input_kind: str | None = None) -> list[str]:
    """Sorted registered names, optionally only those of one input kind."""
    _ensure_loaded()
    return sorted(n for n, e in _REGISTRY.items() if input_kind in (None, e.input_kind))
