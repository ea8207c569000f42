"""Fake third-party APIs (real loopback HTTP servers) for the plugins' tests, and the
operator's allowance that lets connectors reach them.

Production refuses loopback destinations (``switchboard_sdk.netguard``), both when a
config is saved and on every call. These tests run as a developer's machine would:
with ``SWITCHBOARD_OUTBOUND_ALLOW=loopback`` (the fixture each test module declares,
for config validation) and a transport given the same policy.
"""

from __future__ import annotations

import pytest
from switchboard_sdk.netguard import LOOPBACK, OUTBOUND_ALLOW_ENV, OutboundPolicy
from switchboard_sdk.transport import Urllib3Transport

LOOPBACK_ALLOWED = OutboundPolicy.parse(LOOPBACK)

__all__ = ["LOOPBACK_ALLOWED", "loopback_allowed", "loopback_transport"]


def loopback_transport() -> Urllib3Transport:
    """The default transport with the loopback allowance (the fakes listen on 127.0.0.1)."""
    return Urllib3Transport(policy=LOOPBACK_ALLOWED)


@pytest.fixture(autouse=True)
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local-development allowance for config validation, which reads the deployment
    setting. Autouse in every test module that imports it."""
    monkeypatch.setenv(OUTBOUND_ALLOW_ENV, LOOPBACK)
