"""Which part of the hub made an AWS call: the benchmarks tag each handler with a phase
(``tagged``) and count calls by :data:`PHASE` in a botocore hook."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

PHASE: contextvars.ContextVar[str] = contextvars.ContextVar("phase", default="event-source")


def tagged(phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, with every AWS call it makes counted under ``phase``."""
    def run(*args: Any, **kwargs: Any) -> Any:
        token = PHASE.set(phase)
        try:
            return func(*args, **kwargs)
        finally:
            PHASE.reset(token)

    return run
