"""Model builders, registered by exact name. See :mod:`ecgtf.models.registry`."""

from ecgtf.models.registry import get_entry, get_model, list_models, register_model  # noqa: F401

# Each import below registers one model family.
from ecgtf.models import ribeiro  # noqa: E402,F401
from ecgtf.models import inception_spectrogram  # noqa: E402,F401
from ecgtf.models import resnet1d  # noqa: E402,F401
from ecgtf.models import compact1d  # noqa: E402,F401
from ecgtf.models import transfer  # noqa: E402,F401
from ecgtf.models import spectrogram_cnn  # noqa: E402,F401
from ecgtf.models import beat_cnn  # noqa: E402,F401
from ecgtf.models import image_cnn  # noqa: E402,F401
from ecgtf.models import convlstm_leads  # noqa: E402,F401
