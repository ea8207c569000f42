"""The ``hub``, ``demo`` and ``pipeline`` fixtures from tests/conftest.py's ``world``: the
stack deployed and demo seeded once per module, a fresh copy of that state per test.

A module whose every test starts from a saved state takes them over conftest's with
``hub, demo, pipeline = staged_fixtures()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.hub import Hub
from tests.conftest import Pipeline, Stage
from tools.local.demo import DemoTenant


def staged_fixtures() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """``(hub, demo, pipeline)`` fixtures taken from the test's ``stage``."""

    @pytest.fixture
    def hub(stage: Stage) -> Hub:
        return stage.hub

    @pytest.fixture
    def demo(stage: Stage) -> DemoTenant:
        return stage.demo

    @pytest.fixture
    def pipeline(stage: Stage) -> Pipeline:
        return stage.pipeline

    return hub, demo, pipeline
