"""Explaining predictions: Grad-CAM heatmaps, their drawings and HTML galleries."""

from ecgtf.explain.gradcam import METHODS, candidate_layers, find_layer, gradcam, predicted_classes

__all__ = ["METHODS", "candidate_layers", "find_layer", "gradcam", "predicted_classes"]
