"""The webhook path: tenant → enabled channel → verify → parse → one write each → answer.

Everything after the durable write (customers, tickets, events) runs behind the
table's stream, so a provider waits for one conditional PutItem per message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

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


@dataclass
class WebhookIngestor:
    settings: Settings
    registry: PluginRegistry
    tenants: TenantDirectory
    store: TicketStore
    archive: PayloadArchive

    def handle(self, request: WebhookRequest) -> WebhookResponse:
        """Answer one provider request (the edge stamps ``received_at``)."""
        if len(request.body) > self.settings.max_body_bytes:
            raise PayloadTooLarge(f"body is over the {self.settings.max_body_bytes} byte limit")
        tenant = self.tenants.get(request.tenant_id)
        if tenant.status != "active":
            raise Forbidden("tenant is suspended")
        if self.registry.info(request.channel, "channel") is None or not tenant.enabled(request.channel):
            raise NotFound("no such channel for this tenant")
        config = self.tenants.plugin_config(tenant, request.channel)
        if request.method == "GET":
            answer = self.registry.handshake(request.channel, request, config)
            if answer is None:
                raise MethodNotAllowed("this channel accepts POST only")
            return answer
        self.registry.verify(request.channel, request, config)
        report = self._ingest(request, config)
        return self.registry.respond(request.channel, request, config, report) or _default_answer(report)

    def _ingest(self, request: WebhookRequest, config: BaseModel) -> IngestReport:
        try:
            messages = self.registry.parse(request.channel, request, config)
        except BadPayload as err:
            return self._quarantine(request, err.message)
        stored, ids = 0, []
        raw_ref, inline = self._raw(request)
        expires = int((request.received_at + timedelta(days=self.settings.inbound_retention_days)).timestamp())
        tenant_store = self.store.tenant(request.tenant_id)
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
        if len(request.body) <= self.settings.inline_raw_bytes:
            return None, request.body
        keys = self.store.tenant(request.tenant_id).keys
        return self.archive.keep_raw(keys, request.channel, request.body, request.received_at), None

    def _quarantine(self, request: WebhookRequest, reason: str) -> IngestReport:
        keys = self.store.tenant(request.tenant_id).keys
        quarantine_id = self.archive.quarantine(
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
