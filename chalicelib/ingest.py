"""The ingest path: tenant → enabled channel → verify → parse → one write each → answer.

Two doors lead in: provider webhooks (:meth:`Ingestor.handle`) and objects an
AWS service stored for a channel (:meth:`Ingestor.handle_object`, e.g. raw MIME
from SES). Everything after the durable write (customers, tickets, events) runs
behind the table's stream, so a provider waits for one conditional PutItem per
message (plus one PutObject per attachment the plugin hands over as bytes).

Retention: the tenant's record is at hand here, so inbound records expire and
stored objects are tagged by the tenant's choices (:mod:`chalicelib.retention`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from switchboard_sdk import (
    AttachmentRef,
    BadPayload,
    Forbidden,
    InboundMessage,
    IngestReport,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PluginRegistry,
    StoredObject,
    VerificationFailed,
    WebhookRequest,
    WebhookResponse,
)

from .ids import stable_id
from .payloads import PayloadArchive
from .retention import Retention, allowed_days, expires_at
from .settings import Settings
from .store import TicketStore
from .tenants import TenantDirectory, TenantRecord

log = logging.getLogger(__name__)
REPLAY_MEMORY = timedelta(days=2)  # longer than any provider retries with one signature


@dataclass(frozen=True)
class Arrival:
    """What every door knows of a payload: whose, which channel, its bytes."""

    tenant_id: str
    channel: str
    body: bytes
    received_at: datetime
    retention: Retention
    content_type: str = "application/octet-stream"
    raw_ref: str | None = None  # already stored (an S3 object): neither inline nor copy it


@dataclass
class Ingestor:
    settings: Settings
    registry: PluginRegistry
    tenants: TenantDirectory
    store: TicketStore
    archive: PayloadArchive
    # per-tenant webhook rate (raises RateLimited); checked after the signature,
    # so forged requests cannot spend a tenant's budget
    rate_limit: Callable[[str], None] | None = None

    def handle(self, request: WebhookRequest) -> WebhookResponse:
        """Answer one provider request (the edge stamps ``received_at``)."""
        if len(request.body) > self.settings.max_body_bytes:
            raise PayloadTooLarge(f"body is over the {self.settings.max_body_bytes} byte limit")
        tenant = self._active_tenant(request.tenant_id)
        config = self._channel_config(tenant, request.channel)
        if request.method == "GET":
            answer = self.registry.handshake(request.channel, request, config)
            if answer is None:
                raise MethodNotAllowed("this channel accepts POST only")
            return answer
        self.registry.verify(request.channel, request, config)
        if self.rate_limit is not None:
            self.rate_limit(request.tenant_id)
        replay_key = self._check_replay(request, config)
        arrival = Arrival(request.tenant_id, request.channel, request.body, request.received_at,
                          Retention.of(tenant.settings),
                          request.headers.get("content-type", "application/octet-stream"))
        try:
            report = self._store_messages(arrival, self.registry.parse(request.channel, request, config))
        except BadPayload as err:
            report = self._quarantine(arrival, err.message)
        if replay_key:
            self._remember_replay(request, replay_key)
        return self.registry.respond(request.channel, request, config, report) or _default_answer(report)

    def handle_object(self, obj: StoredObject) -> IngestReport:
        """Ingest a payload an AWS service stored for ``obj.channel`` (no signature: IAM).

        The object arrived untagged: it is tagged first with the tenant's retention
        for raw payloads (never longer than its messages'), or, when it cannot be
        routed, the deployment's ``inbound_retention_days``, so no object under
        ``inbound/`` is kept forever.
        """
        ref = f"s3://{obj.bucket}/{obj.key}"
        try:
            tenant = self._active_tenant(obj.tenant_id)
            config = self._channel_config(tenant, obj.channel)
        except (NotFound, Forbidden):
            self.expire_unrouted(ref)
            raise
        arrival = Arrival(obj.tenant_id, obj.channel, obj.body, obj.received_at, Retention.of(tenant.settings),
                          "message/rfc822", raw_ref=ref)
        self.archive.set_retention(ref, arrival.retention.inbound_days)
        try:
            messages = self.registry.parse_object(obj.channel, obj, config)
        except BadPayload as err:
            return self._quarantine(arrival, err.message)
        if messages is None:
            raise NotFound(f"channel {obj.channel!r} takes no stored objects")
        return self._store_messages(arrival, messages)

    def expire_unrouted(self, ref: str) -> None:
        """A stored object nobody ingests still expires: the deployment's default retention."""
        self.archive.set_retention(ref, allowed_days(self.settings.inbound_retention_days))

    def _active_tenant(self, tenant_id: str) -> TenantRecord:
        tenant = self.tenants.get(tenant_id)
        if tenant.status != "active":
            raise Forbidden("tenant is suspended")
        return tenant

    def _channel_config(self, tenant: TenantRecord, channel: str) -> BaseModel:
        if self.registry.info(channel, "channel") is None or not tenant.enabled(channel):
            raise NotFound("no such channel for this tenant")
        return self.tenants.plugin_config(tenant, channel)

    def _check_replay(self, request: WebhookRequest, config: BaseModel) -> str | None:
        key = self.registry.replay_key(request.channel, request, config)
        if key and self.store.tenant(request.tenant_id).replay_seen(request.channel, key):
            raise VerificationFailed("this request was already received (replayed token)")
        return key

    def _remember_replay(self, request: WebhookRequest, key: str) -> None:
        expires = int((request.received_at + REPLAY_MEMORY).timestamp())
        self.store.tenant(request.tenant_id).remember_replay(request.channel, key, expires_at=expires)

    def _store_messages(self, arrival: Arrival, messages: list[InboundMessage]) -> IngestReport:
        stored, ids = 0, []
        raw_ref, inline = self._raw(arrival)
        expires = expires_at(arrival.received_at, arrival.retention.inbound_days)
        tenant_store = self.store.tenant(arrival.tenant_id)
        batch = [m.provider_message_id for m in messages] if inline is not None and len(messages) > 1 else []
        for message in messages:
            if message.tenant_id != arrival.tenant_id or message.channel != arrival.channel:
                raise BadPayload("plugin produced a message for another tenant or channel")
            kept = message.model_copy(update={
                "raw_payload_ref": raw_ref, "attachments": self._upload(arrival, message),
            })
            others = [pid for pid in batch if pid != message.provider_message_id]
            stored += tenant_store.record_inbound(kept, raw=inline, expires_at=expires, batch=others)
            ids.append(message_id_for(kept))
        log.info(json.dumps({"event": "ingest.stored", "tenant": arrival.tenant_id,
                             "channel": arrival.channel, "messages": len(messages), "new": stored}))
        return IngestReport(stored=stored, duplicates=len(messages) - stored, message_ids=tuple(ids))

    def _upload(self, arrival: Arrival, message: InboundMessage) -> list[AttachmentRef]:
        """Attachments handed over as bytes go to S3 (keyed by message and content: repeats overwrite)."""
        keys, message_id = self.store.tenant(arrival.tenant_id).keys, message_id_for(message)
        return [
            a if a.content is None else a.model_copy(update={
                "url": self.archive.keep_attachment(keys, arrival.channel, message_id, a.content, a.content_type,
                                                    retention_days=arrival.retention.message_days),
                "size_bytes": len(a.content), "content": None,
            })
            for a in message.attachments
        ]

    def _raw(self, arrival: Arrival) -> tuple[str | None, bytes | None]:
        """Small bodies ride inside the inbound item; large ones go to S3 first."""
        if arrival.raw_ref:
            return arrival.raw_ref, None
        if len(arrival.body) <= self.settings.inline_raw_bytes:
            return None, arrival.body
        keys = self.store.tenant(arrival.tenant_id).keys
        return self.archive.keep_raw(keys, arrival.channel, arrival.body, arrival.received_at,
                                     retention_days=arrival.retention.inbound_days), None

    def _quarantine(self, arrival: Arrival, reason: str) -> IngestReport:
        keys = self.store.tenant(arrival.tenant_id).keys
        quarantine_id = self.archive.quarantine(
            keys, arrival.channel, arrival.body, reason, arrival.received_at, arrival.content_type,
            retention_days=arrival.retention.raw_days,
        )
        log.warning(json.dumps({"event": "ingest.quarantined", "tenant": arrival.tenant_id,
                                "channel": arrival.channel, "quarantine_id": quarantine_id,
                                "reason": reason}))
        return IngestReport(quarantine_id=quarantine_id, quarantine_reason=reason)


def message_id_for(message: InboundMessage) -> str:
    """The stored message's id, derived from its de-duplication key."""
    return stable_id("msg", message.tenant_id, message.channel, message.provider_message_id)


def _default_answer(report: IngestReport) -> WebhookResponse:
    body = {"status": "quarantined" if report.quarantined else "accepted",
            "message_ids": list(report.message_ids)}
    return WebhookResponse(202, json.dumps(body), {"Content-Type": "application/json"})
