"""Outbound HTTP for connectors, injected so tests and the hub control it.

The default transport is urllib3, which botocore already ships in every Lambda
runtime: no new dependency, and pooled connections across invocations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from .errors import ConnectorError


class TransportError(ConnectorError):
    """The request got no HTTP response (refused, reset, DNS, timeout)."""

    code = "transport_error"

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message, retryable=True)
        self.timeout = timeout


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpTransport(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        """Send one request; raise :class:`TransportError` when no response came."""
        ...


class Urllib3Transport:
    """A pooled transport with no retries of its own (the hub owns retries)."""

    def __init__(self) -> None:
        import urllib3  # imported lazily: only delivery workers need it

        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(retries=False, maxsize=16)  # one per concurrent worker thread

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        u3 = self._urllib3
        try:
            resp = self._pool.request(
                method, url, body=body, headers=dict(headers),
                timeout=u3.Timeout(total=timeout), redirect=False, preload_content=True,
            )
        except (u3.exceptions.TimeoutError, u3.exceptions.ReadTimeoutError) as err:
            raise TransportError(f"no response within {timeout:g}s", timeout=True) from err
        except u3.exceptions.HTTPError as err:
            raise TransportError(f"connection failed: {type(err).__name__}") from err
        return HttpResponse(status=resp.status, headers=dict(resp.headers), body=resp.data)


class ExternalIds(Protocol):
    """The ids a connector created at its receiver (CRM contact, case, partner),
    kept by the hub per (tenant, connector), so later events update the same
    records instead of creating new ones. ``kind`` is the connector's own word
    ("contact", "ticket", ...); ``local_id`` a Switchboard id."""

    def get(self, kind: str, local_id: str) -> str | None: ...

    def put(self, kind: str, local_id: str, external_id: str) -> None: ...


class MemoryExternalIds:
    """A dict-backed :class:`ExternalIds` (tests, the conformance suite)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}

    def get(self, kind: str, local_id: str) -> str | None:
        return self.ids.get((kind, local_id))

    def put(self, kind: str, local_id: str, external_id: str) -> None:
        self.ids[(kind, local_id)] = external_id


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryContext:
    """Collaborators and facts for one delivery attempt (``attempt`` starts at 1)."""

    attempt: int = 1
    max_attempts: int = 5
    http: HttpTransport = field(default_factory=Urllib3Transport)
    clock: Callable[[], datetime] = _utc_now
    timeout_seconds: float = 10.0
    external_ids: ExternalIds = field(default_factory=MemoryExternalIds)
