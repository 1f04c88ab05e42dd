"""The features view: hand-made ECG measurements and gradient-boosted trees on them."""
