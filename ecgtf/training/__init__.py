"""Training and evaluation of registered models on loaded datasets."""
