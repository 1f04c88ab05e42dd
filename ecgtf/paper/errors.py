"""The one error the page reader raises: which step failed, and why, on one line."""

from __future__ import annotations


class PageReadError(ValueError):
    """A page that cannot be read. ``str(err)`` is one line naming the failed step.

    Attributes:
        step: ``load``, ``paper``, ``deskew``, ``grid``, ``ink``, ``rows``, ``layout`` or ``trace``.
        reason: what was found instead of what was needed.
    """

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{step}: {self.reason}")
