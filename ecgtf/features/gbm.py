"""Gradient-boosted trees on ECG features (scikit-learn ``HistGradientBoostingClassifier``).

One classifier per output for binary and multi-label tasks, one multi-class classifier for
multi-class tasks. Trees see the features (:mod:`ecgtf.features.ecg_features`) in a way the
networks do not: on PTB-XL they score as well as a 3-network ensemble of the median beat and
their mean with that ensemble beats both (README, ``benchmarks/bench_feature_view.py``).
Missing values (NaN) are native to the model.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

MODEL_FILE = "features_model.joblib"
INFO_FILE = "features_model.json"


@dataclasses.dataclass
class GBMParams:
    """Tree settings (fixed a priori, not tuned on any test fold)."""

    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    l2_regularization: float = 1.0
    seed: int = 0


@dataclasses.dataclass
class FeatureGBM:
    """The fitted model and what it takes.

    Attributes:
        task_kind: ``binary``, ``multiclass`` or ``multilabel``.
        class_names: one per output.
        lead_names: the leads the features were measured on, in order.
        sampling_rate: Hz of the decoded records it was trained on (the features resample anyway).
        params: the tree settings.
        estimators: fitted classifiers (one, or one per output).
        columns: the feature columns the trees read: those with a value in some training record
            (a single-lead record has no axis or voltage criteria, and the trees refuse all-NaN columns).
        feature_names: the names of all feature columns at fitting
            (:func:`~ecgtf.features.ecg_features.feature_names`); :meth:`load` refuses a model whose
            names differ from what this ecgtf measures, so a changed feature set is never misread.
    """

    task_kind: str
    class_names: list
    lead_names: list
    sampling_rate: float
    params: GBMParams = dataclasses.field(default_factory=GBMParams)
    estimators: list = dataclasses.field(default_factory=list)
    columns: list = dataclasses.field(default_factory=list)
    feature_names: list = dataclasses.field(default_factory=list)

    def _new(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        p = self.params
        return HistGradientBoostingClassifier(max_iter=p.max_iter, learning_rate=p.learning_rate,
                                              max_leaf_nodes=p.max_leaf_nodes,
                                              l2_regularization=p.l2_regularization, early_stopping=False,
                                              random_state=p.seed)

    def fit(self, features: np.ndarray, labels: np.ndarray) -> FeatureGBM:
        """Fits on ``(N, n_features)`` features and ``(N, outputs)`` 0/1 labels."""
        from ecgtf.features.ecg_features import feature_names

        labels = np.asarray(labels)
        if len(features) != len(labels):
            raise ValueError(f"{len(features)} feature rows but {len(labels)} label rows")
        self.feature_names = feature_names(self.lead_names)
        if np.shape(features)[1] != len(self.feature_names):
            raise ValueError(f"{np.shape(features)[1]} feature columns but {len(self.feature_names)} features "
                             f"are measured on {len(self.lead_names)} lead(s)")
        self.columns = [int(c) for c in np.flatnonzero(np.isfinite(features).any(axis=0))]
        features = np.asarray(features)[:, self.columns]
        if self.task_kind == "multiclass":
            y = labels.argmax(axis=1)
            if len(np.unique(y)) < 2:
                raise ValueError("the training records hold one class only")
            self.estimators = [self._new().fit(features, y)]
            return self
        self.estimators = []
        for c, name in enumerate(self.class_names):
            if len(np.unique(labels[:, c])) < 2:
                raise ValueError(f"class {name}: the training records are all {int(labels[0, c])}")
            self.estimators.append(self._new().fit(features, labels[:, c]))
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """``(N, outputs)`` probabilities."""
        if not self.estimators:
            raise ValueError("the features model is not fitted")
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise ValueError(f"features of shape {features.shape}, the model takes {len(self.feature_names)} columns")
        features = features[:, self.columns]
        if self.task_kind == "multiclass":
            est = self.estimators[0]
            out = np.zeros((len(features), len(self.class_names)), np.float32)
            out[:, est.classes_.astype(int)] = est.predict_proba(features)
            return out
        return np.stack([e.predict_proba(features)[:, 1] for e in self.estimators], axis=1).astype(np.float32)

    def predict_signals(self, signals, *, progress: bool = False) -> np.ndarray:
        """Probabilities of decoded ``(samples, leads)`` mV signals at :attr:`sampling_rate`."""
        from ecgtf.features.ecg_features import feature_matrix

        return self.predict_proba(feature_matrix(signals, self.sampling_rate, self.lead_names, progress=progress))

    def save(self, run_dir: str) -> None:
        """``features_model.joblib`` (the trees) and ``features_model.json`` (what it takes)."""
        import joblib
        import sklearn

        from ecgtf.atomic import replacing

        os.makedirs(run_dir, exist_ok=True)
        with replacing(os.path.join(run_dir, MODEL_FILE)) as tmp:
            joblib.dump(self.estimators, tmp)
        info = {k: v for k, v in dataclasses.asdict(self).items() if k != "estimators"}
        info["sklearn_version"] = sklearn.__version__
        with replacing(os.path.join(run_dir, INFO_FILE)) as tmp, open(tmp, "w") as f:
            json.dump(info, f, indent=1)

    @classmethod
    def load(cls, run_dir: str) -> FeatureGBM:
        """Reads what :meth:`save` wrote (one-line errors for a missing or unreadable file, or for
        trees fitted on another feature set than this ecgtf measures)."""
        import joblib

        from ecgtf.features.ecg_features import feature_names

        paths = [os.path.join(run_dir, name) for name in (INFO_FILE, MODEL_FILE)]
        for path in paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{run_dir!r} is not a features run: {os.path.basename(path)} is missing")
        try:
            with open(paths[0]) as f:
                info = json.load(f)
            info.pop("sklearn_version", None)
            params = GBMParams(**info.pop("params"))
            estimators = joblib.load(paths[1])
        except Exception as err:  # json, joblib and pickle raise many kinds
            raise ValueError(f"{run_dir}: the features model cannot be read "
                             f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''})") from None
        model = cls(params=params, estimators=list(estimators), **info)
        if model.feature_names != feature_names(model.lead_names):
            raise ValueError(f"{run_dir}: its trees were fitted on another feature set than this ecgtf measures "
                             f"({len(model.feature_names)} features, now {len(feature_names(model.lead_names))}); "
                             f"train it again with scripts/train_features.py")
        return model


def is_current(run_dir: str) -> bool:
    """True when ``run_dir`` holds trees this ecgtf can read (fitted on the features it measures)."""
    try:
        FeatureGBM.load(run_dir)
    except (ValueError, FileNotFoundError):
        return False
    return True


def is_features_run(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(run_dir, INFO_FILE))
