"""Outbound HTTP for connectors, injected so tests and the hub control it.

The default transport is urllib3, which botocore already ships in every Lambda
runtime: no new dependency, and pooled connections across invocations. It only
connects to addresses :mod:`.netguard` allowed: tenants choose the URLs, and must
not reach the hub's own network through them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import AfterValidator

from .errors import ConnectorError

if TYPE_CHECKING:
    import ssl

    from pydantic import ValidationInfo

    from .netguard import OutboundPolicy, Resolver

_U = TypeVar("_U")


def _check_outbound_url(value: _U, info: ValidationInfo) -> _U:
    # netguard (~8 ms: its address tables, socket) loads when a URL is first judged, not
    # when a plugin whose config holds one is loaded: webhook containers never judge one
    from .netguard import check_outbound_url

    return check_outbound_url(value, info)


OUTBOUND_URL = AfterValidator(_check_outbound_url)
"""Mark a config field holding a URL the plugin will call: ``Annotated[AnyHttpUrl, OUTBOUND_URL]``.

Judged by :func:`.netguard.check_outbound_url`: by the policy in the validation context
(:func:`.netguard.validation_context`), else by ``SWITCHBOARD_OUTBOUND_ALLOW``.
"""


class TransportError(ConnectorError):
    """The request got no HTTP response (refused, reset, DNS, timeout, or a
    destination the transport may not call: ``retryable=False``)."""

    code = "transport_error"

    def __init__(self, message: str, *, timeout: bool = False, retryable: bool = True) -> None:
        super().__init__(message, retryable=retryable)
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


@dataclass(frozen=True)
class _Target:
    """The parts of a URL the transport needs once the host is resolved."""

    scheme: str
    host: str  # as in the URL (IPv6 in brackets), lower-cased and IDNA-encoded
    port: int
    path: str  # path and query
    host_header: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        from urllib3.util import parse_url

        try:
            parts = parse_url(url)
        except ValueError as err:  # LocationParseError
            raise TransportError("not a valid URL", retryable=False) from err
        scheme = (parts.scheme or "").lower()
        if scheme not in _DEFAULT_PORTS or not parts.host:
            raise TransportError("only absolute http and https URLs can be called", retryable=False)
        default = _DEFAULT_PORTS[scheme]
        port = parts.port or default
        header = parts.host if port == default else f"{parts.host}:{port}"
        return cls(scheme, parts.host, port, parts.request_uri, header)

    @property
    def bare_host(self) -> str:
        return self.host.strip("[]")


_DEFAULT_PORTS = {"http": 80, "https": 443}


class Urllib3Transport:
    """A pooled transport with no retries of its own (the hub owns retries) and no redirects.

    Each request resolves the URL's host once through ``resolver``, refuses it unless
    every address passes ``policy`` (:class:`~.netguard.DestinationRefused`, not
    retryable), and connects to a checked address with the hostname kept in ``Host``
    and, over TLS, in SNI and certificate verification. The default policy allows
    public addresses only; the hub passes the deployment's
    (``SWITCHBOARD_OUTBOUND_ALLOW``). ``ssl_context`` replaces the system trust store
    (a private CA).
    """

    def __init__(
        self,
        *,
        policy: OutboundPolicy | None = None,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        import urllib3  # imported lazily: only delivery workers need it

        from .netguard import NetGuard, OutboundPolicy, system_resolver  # here: netguard imports this module

        self._urllib3 = urllib3
        self.guard = NetGuard(policy or OutboundPolicy(), resolver or system_resolver)
        tls: dict[str, Any] = {} if ssl_context is None else {"ssl_context": ssl_context}
        # pools are keyed by address, port and TLS name; one connection per concurrent worker thread
        self._pool = urllib3.PoolManager(retries=False, maxsize=16, **tls)

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
        target = _Target.parse(url)
        addresses = self.guard.addresses(target.bare_host, target.port)
        sent = {name: value for name, value in headers.items() if name.lower() != "host"}
        sent["Host"] = target.host_header  # the socket goes to an address; the server expects the name
        deadline = time.monotonic() + timeout
        for index, address in enumerate(addresses):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                resp = self._pool_for(target, str(address)).urlopen(
                    method, target.path, body=body, headers=sent, timeout=u3.Timeout(total=remaining),
                    redirect=False, retries=False, preload_content=True, assert_same_host=False,
                )
            except u3.exceptions.NewConnectionError as err:  # refused, unreachable: before the timeouts (a subclass)
                if index + 1 < len(addresses):
                    continue  # nothing was sent; the host's next address may answer (IPv6 without a route)
                cause = getattr(err.__cause__, "strerror", None) or "could not connect"
                raise TransportError(f"connection failed: {cause.lower()}") from err
            except (u3.exceptions.TimeoutError, u3.exceptions.ReadTimeoutError) as err:
                raise TransportError(f"no response within {timeout:g}s", timeout=True) from err
            except u3.exceptions.HTTPError as err:
                raise TransportError(f"connection failed: {type(err).__name__}") from err
            return HttpResponse(status=resp.status, headers=dict(resp.headers), body=resp.data)
        raise TransportError(f"no response within {timeout:g}s", timeout=True)

    def _pool_for(self, target: _Target, address: str) -> Any:
        tls = None
        if target.scheme == "https" and address != target.bare_host:
            # SNI and the certificate check use the name from the URL, not the address dialled
            tls = {"server_hostname": target.bare_host}
        return self._pool.connection_from_host(address, target.port, target.scheme, pool_kwargs=tls)


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
    # "now" for the connector: Retry-After dates, signature timestamps and token expiry are
    # read against it. The hub passes its own (injected) clock; the default is wall time
    clock: Callable[[], datetime] = _utc_now
    timeout_seconds: float = 10.0
    external_ids: ExternalIds = field(default_factory=MemoryExternalIds)
