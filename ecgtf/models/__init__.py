"""Model builders, registered by exact name. See :mod:`ecgtf.models.registry`."""

from ecgtf.models.registry import get_entry, get_model, list_models, register_model  # noqa: F401

# Each import below registers one model family.
