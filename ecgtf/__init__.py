"""ecgtf: ECG classification with Keras 3 / TensorFlow.

Subpackages:
    ecgtf.data: dataset readers, synthetic ECGs, signal transforms, tf.data pipelines.
    ecgtf.models: model registry and builders.
    ecgtf.callbacks: training callbacks.
"""

__version__ = "0.1.0"
