"""Where outbound calls may go: public addresses only, checked where the connection is made.

Tenants choose the URLs connectors call (a webhook URL, a CRM's base or token URL).
Without a guard a tenant can aim them at the hub's own network — loopback services,
the VPC, the instance metadata endpoint — and read the answer back in the delivery
log. So every outbound request resolves its host **once**, checks **every** address
against :class:`OutboundPolicy`, and connects to a checked address (keeping the
hostname for ``Host`` and TLS): a DNS answer that changes between check and connect
(rebinding) never reaches a socket. The transport (:mod:`.transport`) does this on
every call; :data:`OUTBOUND_URL` also refuses the obvious cases (an IP literal or
``localhost``) when a tenant saves a config, so the mistake shows up as a 422 then.

Refused unless the operator allows them (``SWITCHBOARD_OUTBOUND_ALLOW``, a
comma-separated list of CIDRs and the word ``loopback``, for local development)::

    loopback        127.0.0.0/8, ::1
    private         10/8, 172.16/12, 192.168/16, fc00::/7 (unique-local), fec0::/10
    CGNAT           100.64.0.0/10
    link-local      169.254.0.0/16, fe80::/10
    cloud metadata  169.254.169.254, fd00:ec2::254
    multicast       224.0.0.0/4, ff00::/8
    unspecified     0.0.0.0/8, ::
    reserved        192.0.0.0/24, documentation ranges, 198.18.0.0/15 (benchmarking),
                    240.0.0.0/4 (incl. broadcast), and every IPv6 address outside
                    global unicast 2000::/3 (IPv4-compatible, SIIT, discard, ...)

IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped
``::ffff:a.b.c.d`` (a socket really connects to a.b.c.d), NAT64 ``64:ff9b::/96``
and 6to4 ``2002::/16``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .transport import OUTBOUND_URL, TransportError

if TYPE_CHECKING:
    from pydantic import ValidationInfo

OUTBOUND_ALLOW_ENV = "SWITCHBOARD_OUTBOUND_ALLOW"
LOOPBACK = "loopback"  # the one keyword of the setting, besides CIDRs
CONTEXT_KEY = "switchboard_outbound_policy"  # pydantic validation context entry

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) → addresses`` as strings, in the order to try them; raises ``OSError``."""

_U = TypeVar("_U")


def _networks(rows: Sequence[tuple[str, str]]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), why) for cidr, why in rows)


# most specific first: the first match names the reason
_FORBIDDEN_V4 = _networks((
    ("169.254.169.254/32", "cloud metadata"),
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("169.254.0.0/16", "link-local"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "reserved"),  # documentation (TEST-NET-1..3): never a real receiver
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),  # benchmarking, used inside some data centres
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # incl. the broadcast address
))
_FORBIDDEN_V6 = _networks((
    ("fd00:ec2::254/128", "cloud metadata"),  # EC2's IPv6 instance metadata endpoint
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "private"),  # local-use NAT64 (RFC 8215)
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (private)"),
    ("ff00::/8", "multicast"),
    ("2001::/32", "reserved"),  # Teredo tunnels
    ("2001:db8::/32", "reserved"),  # documentation
))
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_LOOPBACK_NETS: tuple[Network, ...] = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv6Network("::1/128"))
# inet_aton's legacy spellings (0x7f.1, 2130706433, 017700000001): resolvers accept them as IPv4
_LEGACY_V4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets, a zone id, or a legacy IPv4 spelling allowed); else None."""
    text = text.strip().strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_V4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def is_loopback_host(host: str) -> bool:
    """``localhost`` (RFC 6761) or a loopback address in any spelling: where plain http is tolerable."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = parse_address(name)
    return address is not None and connect_address(address).is_loopback


def connect_address(address: IPAddress) -> IPAddress:
    """Where a socket to ``address`` really goes: an IPv4-mapped IPv6 address is its IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address is translated to."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination (``"loopback"``, ...), or None if it is."""
    address = connect_address(address)
    if isinstance(address, ipaddress.IPv4Address):
        return next((why for net, why in _FORBIDDEN_V4 if address in net), None)
    named = next((why for net, why in _FORBIDDEN_V6 if address in net), None)
    if named is not None:
        return named
    embedded = _embedded_v4(address)
    if embedded is not None:
        # a translator forwards to the embedded IPv4 address: judge that one
        inner = forbidden_reason(embedded)
        return None if inner is None else f"{inner}, through {'NAT64' if address in _NAT64 else '6to4'}"
    return None if address in _GLOBAL_UNICAST_V6 else "reserved"


@dataclass(frozen=True)
class OutboundPolicy:
    """Which destinations outbound calls may reach: public addresses, plus ``allow``.

    ``OutboundPolicy()`` is the production policy. ``allow`` is the operator's
    exception for local development (loopback fakes, a receiver on the LAN).
    """

    allow: tuple[Network, ...] = field(default=())

    @classmethod
    def parse(cls, setting: str | None) -> OutboundPolicy:
        """``"loopback, 10.1.0.0/16, 192.168.1.7"`` → a policy; ``ValueError`` names a bad entry."""
        networks: list[Network] = []
        for entry in (part.strip() for part in (setting or "").split(",")):
            if not entry:
                continue
            if entry.lower() == LOOPBACK:
                networks += _LOOPBACK_NETS
                continue
            try:
                networks.append(ipaddress.ip_network(entry))  # strict: 10.0.0.1/8 is a typo, not a range
            except ValueError as err:
                raise ValueError(
                    f"{OUTBOUND_ALLOW_ENV}: {entry!r} is neither {LOOPBACK!r} nor a CIDR such as 10.1.0.0/16"
                ) from err
        return cls(tuple(dict.fromkeys(networks)))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutboundPolicy:
        """The deployment's policy, from ``SWITCHBOARD_OUTBOUND_ALLOW``."""
        return _parsed((os.environ if env is None else env).get(OUTBOUND_ALLOW_ENV, ""))

    @property
    def allows_loopback(self) -> bool:
        return self.allows(ipaddress.IPv4Address("127.0.0.1"))

    def allows(self, address: IPAddress) -> bool:
        """True when ``address`` is public or the operator allowed it."""
        return self.refusal(address) is None

    def refusal(self, address: IPAddress) -> str | None:
        """Why a call to ``address`` is refused (``"loopback"``, ...), or None when it may go."""
        if any(candidate in net for candidate in {address, connect_address(address)} for net in self.allow
               if candidate.version == net.version):
            return None
        return forbidden_reason(address)


@functools.lru_cache(maxsize=8)
def _parsed(setting: str) -> OutboundPolicy:
    # config validation reads the setting often (every saved or loaded config): parse each spelling once
    return OutboundPolicy.parse(setting)


class DestinationRefused(TransportError):
    """The destination is an address the policy refuses; nothing was sent. Permanent:
    the same URL is refused on every retry, so it is not retried."""

    code = "destination_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def refusal_message(shown: str, reason: str, *, host: str | None = None) -> str:
    """The tenant-facing text. A hostname's resolved address is not quoted: it would
    let a tenant map the hub's internal DNS names to their addresses."""
    if host is None:
        return f"destination address {shown} is not allowed ({reason}); only public addresses can be called"
    return f"destination host {host} resolves to an address that is not allowed ({reason})"


def system_resolver(host: str, port: int) -> list[str]:
    """The platform's resolver (``getaddrinfo``): each address once, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class NetGuard:
    """Resolves a host once and vets every answer; callers connect only to what it returns."""

    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    resolver: Resolver = system_resolver

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for ``host`` (all allowed), in order.

        Raises :class:`DestinationRefused` when the host is, or resolves to, any
        refused address — all of them are checked, as a client could try any — and a
        retryable :class:`TransportError` when it does not resolve.
        """
        literal = parse_address(host)
        if literal is not None:
            reason = self.policy.refusal(literal)
            if reason is not None:
                raise DestinationRefused(refusal_message(str(literal), reason))
            return [connect_address(literal)]
        try:
            answers = self.resolver(host, port)
        except (OSError, UnicodeError) as err:  # gaierror; an over-long label fails in the IDNA codec
            raise TransportError(f"could not resolve host {host}") from err
        parsed = [parse_address(answer) for answer in answers]
        checked: list[IPAddress] = []
        for address in parsed:
            if address is None:  # a resolver must answer addresses; anything else is not connectable
                raise TransportError(f"could not resolve host {host}")
            reason = self.policy.refusal(address)
            if reason is not None:
                raise DestinationRefused(refusal_message(str(address), reason, host=host))
            checked.append(connect_address(address))
        if not checked:
            raise TransportError(f"could not resolve host {host}")
        return list(dict.fromkeys(checked))


# -- configure time ------------------------------------------------------------------


def url_problem(url: str, policy: OutboundPolicy) -> str | None:
    """What is wrong with ``url`` as an outbound destination, judged without DNS; None if nothing.

    Catches the cheap cases when a tenant saves a config: a scheme other than http(s),
    an IP literal in a refused range, ``localhost``. A hostname that resolves to a
    refused address passes here and is refused by :class:`NetGuard` on every call.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http or https URL"
    if not host:
        return "must name a host"
    literal = parse_address(host)
    if literal is None:
        # RFC 6761: localhost is loopback, whatever a resolver would say; other names are judged when called
        return None if policy.allows_loopback or not is_loopback_host(host) else refusal_message(host, "loopback")
    reason = policy.refusal(literal)
    return None if reason is None else refusal_message(str(literal), reason)


def validation_context(policy: OutboundPolicy) -> dict[str, Any]:
    """A pydantic validation ``context`` that judges :data:`OUTBOUND_URL` fields by ``policy``."""
    return {CONTEXT_KEY: policy}


def _policy_for(context: Any) -> OutboundPolicy:
    policy = context.get(CONTEXT_KEY) if isinstance(context, Mapping) else None
    # no context: the hub validates configs where the deployment's setting applies
    return policy if isinstance(policy, OutboundPolicy) else OutboundPolicy.from_env()


def check_outbound_url(value: _U, info: ValidationInfo) -> _U:
    """Pydantic after-validator behind :data:`OUTBOUND_URL` (defined in :mod:`.transport`,
    so marking a field does not import this module)."""
    problem = url_problem(str(value), _policy_for(info.context))
    if problem is not None:
        raise ValueError(problem)
    return value


__all__ = [
    "CONTEXT_KEY",
    "LOOPBACK",
    "OUTBOUND_ALLOW_ENV",
    "OUTBOUND_URL",
    "DestinationRefused",
    "NetGuard",
    "OutboundPolicy",
    "Resolver",
    "check_outbound_url",
    "connect_address",
    "forbidden_reason",
    "is_loopback_host",
    "parse_address",
    "system_resolver",
    "url_problem",
    "validation_context",
]
