"""What a model sees: input kinds, their options and the preprocessing saved with the model."""

from ecgtf.inputs.specs import (INPUT_SPECS, build_prepare, get_spec, split_model, split_options,  # noqa: F401
                                with_prepare)
