"""Label tasks: which classes a model predicts and how they are scored.

A reader turns a record's raw codes into a label vector for a :class:`Task`
(see ``Reader.encode``); this module only describes the task.
"""

from __future__ import annotations

import dataclasses

TASK_KINDS = ("binary", "multiclass", "multilabel")


@dataclasses.dataclass(frozen=True)
class Task:
    """A prediction task.

    Attributes:
        name: e.g. ``"mi_vs_norm"``, ``"superdiagnostic"``, ``"af4"``, ``"scored27"``.
        classes: class names. Binary tasks list ``(negative, positive)`` and have
            one output unit; the others have one unit per class.
        kind: ``"binary"`` (labels ``(N, 1)`` in {0, 1}), ``"multiclass"`` (one-hot
            ``(N, C)``, softmax) or ``"multilabel"`` (multi-hot ``(N, C)``, sigmoid).
        main_score: the ``metrics.json`` key that picks the best epoch
            (``"auc"``, ``"macro_auc"``, ``"cinc2017_f1"``, ``"challenge_metric"``).
        extras: task-specific scoring inputs (e.g. ``{"snomed_codes": [...],
            "weights_csv": path, "normal_class": "426783006"}`` for ``scored27``).
    """

    name: str
    classes: tuple[str, ...]
    kind: str
    main_score: str
    extras: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task kind must be one of {TASK_KINDS}, got {self.kind!r}")
        if self.kind == "binary" and len(self.classes) != 2:
            raise ValueError("a binary task lists exactly two classes: (negative, positive)")

    @property
    def num_outputs(self) -> int:
        return 1 if self.kind == "binary" else len(self.classes)

    @property
    def activation(self) -> str:
        return "softmax" if self.kind == "multiclass" else "sigmoid"

    @property
    def output_names(self) -> tuple[str, ...]:
        """One name per output unit."""
        return self.classes[1:] if self.kind == "binary" else self.classes
