"""Model registry: builders looked up by exact name.

Every builder has the signature ``build(input_shape, num_classes, *, ...) -> keras.Model``
and declares the input kind it consumes, so the trainer can build the matching pipeline.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras



@dataclasses.dataclass(frozen=True)
class InputContract:
    """What a model's weights were trained on: rate (Hz), window (samples), lead order, units.

    A run whose data differ is resampled and cropped/padded to it (saying so), and a run whose
    leads come in another order or number is refused (:mod:`ecgtf.training.contracts`).
    """

    name: str
    sampling_rate: float | None = None
    samples: int | None = None
    lead_names: tuple[str, ...] | None = None
    units: str = "mV"


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model.

    Attributes:
        name: the exact registry name.
        builder: ``build(input_shape, num_classes, **options) -> keras.Model``.
        input_kind: a key of ``ecgtf.inputs.specs.INPUT_SPECS``.
        defaults: training defaults this model prefers (e.g. ``{"batch_size": 16}``).
        description: one line for ``list_models`` / ``--help``.
        unfreeze: optional ``unfreeze(model) -> model`` for a second, fine-tuning phase
            (``--unfreeze-after E``): makes the layers trainable that phase 2 trains.
        contract: optional ``contract(options) -> InputContract | None``: the input the
            weights that ``options`` load expect (e.g. the published Ribeiro model's).
    """

    name: str
    builder: Callable[..., keras.Model]
    input_kind: str
    defaults: dict
    description: str
    unfreeze: Callable[[keras.Model], keras.Model] | None = None
    contract: Callable[[dict], InputContract | None] | None = None


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, *, input_kind: str, defaults: dict | None = None, description: str = "",
                   unfreeze: Callable[[keras.Model], keras.Model] | None = None,
                   contract: Callable[[dict], InputContract | None] | None = None):
    """Decorator registering ``build(input_shape, num_classes, **options)`` under ``name``.

    Raises:
        ValueError: the name is taken or the input kind is unknown.
    """
    from ecgtf.inputs.specs import INPUT_SPECS

    if input_kind not in INPUT_SPECS:
        raise ValueError(f"input_kind must be one of {tuple(INPUT_SPECS)}, got {input_kind!r}")

    def decorator(builder):
        if name in _REGISTRY:
            raise ValueError(f"model name {name!r} is already registered")
        doc = description or (builder.__doc__ or "").strip().splitlines()[0:1]
        _REGISTRY[name] = ModelEntry(
            name, builder, input_kind, dict(defaults or {}),
            doc if isinstance(doc, str) else (doc[0] if doc else ""), unfreeze, contract,
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
