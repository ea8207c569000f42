"""The webhook path: tenant → enabled channel → verify → parse → one write each → answer.

Everything after the durable write (customers, tickets, events) runs behind the
table's stream, so a provider waits for one conditional PutItem per message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from switchboard_sdk import (
    BadPayload,
    Forbidden,
    InboundMessage,
    IngestReport,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PluginRegistry,
    WebhookRequest,
    WebhookResponse,
)

from .ids import stable_id
from .payloads import PayloadArchive
from .settings import Settings
from .store import TicketStore
from .tenants import TenantDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawWebhook:
    """The parts of an HTTP request the edge hands over."""

    tenant_id: str
    channel: str
    method: str
    public_url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    source_ip: str = ""


class WebhookIngestor:
    def __init__(
        self,
        *,
        settings: Settings,
        registry: PluginRegistry,
        tenants: TenantDirectory,
        store: TicketStore,
        archive: PayloadArchive,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._tenants = tenants
        self._store = store
        self._archive = archive
        self._clock = clock

    def handle(self, raw: RawWebhook) -> WebhookResponse:
        if len(raw.body) > self._settings.max_body_bytes:
            raise PayloadTooLarge(f"body is over the {self._settings.max_body_bytes} byte limit")
        tenant = self._tenants.get(raw.tenant_id)
        if tenant.status != "active":
            raise Forbidden("tenant is suspended")
        if self._registry.info(raw.channel, "channel") is None or not tenant.enabled(raw.channel):
            raise NotFound("no such channel for this tenant")
        config = self._tenants.plugin_config(tenant, raw.channel)
        request = WebhookRequest(
            tenant_id=tenant.id, channel=raw.channel, method=raw.method, public_url=raw.public_url,
            headers=raw.headers, query=raw.query, body=raw.body, received_at=self._clock(),
            source_ip=raw.source_ip,
        )
        if raw.method == "GET":
            answer = self._registry.handshake(raw.channel, request, config)
            if answer is None:
                raise MethodNotAllowed("this channel accepts POST only")
            return answer
        self._registry.verify(raw.channel, request, config)
        report = self._ingest(request, config)
        return self._registry.respond(raw.channel, request, config, report) or _default_answer(report)

    def _ingest(self, request: WebhookRequest, config: BaseModel) -> IngestReport:
        try:
            messages = self._registry.parse(request.channel, request, config)
        except BadPayload as err:
            return self._quarantine(request, err.message)
        stored, ids = 0, []
        raw_ref, inline = self._raw(request)
        expires = int((request.received_at + timedelta(days=self._settings.inbound_retention_days)).timestamp())
        tenant_store = self._store.tenant(request.tenant_id)
        for message in messages:
            if message.tenant_id != request.tenant_id or message.channel != request.channel:
                raise BadPayload("plugin produced a message for another tenant or channel")
            kept = message.model_copy(update={"raw_payload_ref": raw_ref})
            stored += tenant_store.record_inbound(kept, raw=inline, expires_at=expires)
            ids.append(message_id_for(kept))
        log.info(json.dumps({"event": "webhook.ingested", "tenant": request.tenant_id,
                             "channel": request.channel, "messages": len(messages), "new": stored}))
        return IngestReport(stored=stored, duplicates=len(messages) - stored, message_ids=tuple(ids))

    def _raw(self, request: WebhookRequest) -> tuple[str | None, bytes | None]:
        """Small bodies ride inside the inbound item; large ones go to S3 first."""
        if len(request.body) <= self._settings.inline_raw_bytes:
            return None, request.body
        keys = self._store.tenant(request.tenant_id).keys
        return self._archive.keep_raw(keys, request.channel, request.body, request.received_at), None

    def _quarantine(self, request: WebhookRequest, reason: str) -> IngestReport:
        keys = self._store.tenant(request.tenant_id).keys
        quarantine_id = self._archive.quarantine(
            keys, request.channel, request.body, reason, request.received_at, request.headers
        )
        log.warning(json.dumps({"event": "webhook.quarantined", "tenant": request.tenant_id,
                                "channel": request.channel, "quarantine_id": quarantine_id,
                                "reason": reason}))
        return IngestReport(quarantine_id=quarantine_id, quarantine_reason=reason)


def message_id_for(message: InboundMessage) -> str:
    """The stored message's id, derived from its de-duplication key."""
    return stable_id("msg", message.tenant_id, message.channel, message.provider_message_id)


def _default_answer(report: IngestReport) -> WebhookResponse:
    body = {"status": "quarantined" if report.quarantined else "accepted",
            "message_ids": list(report.message_ids)}
    return WebhookResponse(202, json.dumps(body), {"Content-Type": "application/json"})
