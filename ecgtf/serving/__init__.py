"""Serving a trained run: SavedModel export for TF Serving (:mod:`ecgtf.serving.export`), its
in-graph crop averaging (:mod:`ecgtf.serving.windows`) and README (:mod:`ecgtf.serving.readme`),
and scoring record files with a run or an export (:mod:`ecgtf.serving.files`,
:mod:`ecgtf.serving.predictor`)."""
