"""What a channel plugin sees of a provider's HTTP request, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's request to ``/hooks/{tenant}/{channel}``.

    ``headers`` keys are lower-case. ``public_url`` is the URL the provider
    called, as it saw it (scheme, host, stage prefix, query string), which
    URL-signing providers need. ``received_at`` is the hub's clock, for replay
    windows.
    """

    tenant_id: str
    channel: str
    method: str
    public_url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    received_at: datetime
    source_ip: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, list[str]]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


@dataclass(frozen=True)
class StoredObject:
    """A payload an AWS service wrote to the deployment's own bucket for a channel
    (raw MIME from an SES receipt rule). It arrived under IAM, not over the
    internet, so there is no provider signature to check."""

    tenant_id: str
    channel: str
    bucket: str
    key: str
    body: bytes
    received_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookResponse:
    """What the provider gets back; each provider expects its own format."""

    status_code: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})


@dataclass(frozen=True)
class IngestReport:
    """What the hub did with a verified request, for ``switchboard_channel_respond``.

    ``stored`` counts new messages, ``duplicates`` the ones already held (a
    provider retry); both are answered the same way. ``quarantine_id`` is set
    when the verified payload could not be parsed and was kept aside.
    """

    stored: int = 0
    duplicates: int = 0
    message_ids: tuple[str, ...] = ()
    quarantine_id: str | None = None
    quarantine_reason: str = ""

    @property
    def quarantined(self) -> bool:
        return self.quarantine_id is not None
