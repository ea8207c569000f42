"""The ingest path: tenant → enabled channel → verify → parse → one write each → answer.

Two doors lead in: provider webhooks (:meth:`Ingestor.handle`) and objects an
AWS service stored for a channel (:meth:`Ingestor.handle_object`, e.g. raw MIME
from SES). Everything after the durable write (customers, tickets, events) runs
behind the table's stream, so a provider waits for one conditional PutItem per
message (plus one PutObject per attachment the plugin hands over as bytes; a
message too large for one item goes in one transaction with its parts).

A verified payload is never lost to a parser: ``BadPayload`` — or any other
exception a plugin's parse raises — quarantines the body (S3) and the provider
gets its normal answer, so a plugin bug never turns into a 500 the provider
retries for hours.

One-time tokens (``replay_key``) are claimed before anything is stored, in one
conditional write that records the request's fingerprint (its messages' ids, or
the body's SHA-256 when it did not parse): a replay with another body is refused,
the provider's own retry after a failure gets in and is de-duplicated.

Rate: for channels whose provider retries (``PluginInfo.retries_webhooks``) a
request over the tenant's webhook rate is refused (429) before anything is
stored; for the others it is stored first and counted after, never refused.

Retention: the tenant's record is at hand here, so inbound records expire and
stored objects are tagged by the tenant's choices (:mod:`chalicelib.tenancy.retention`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
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
    PluginConfigError,
    PluginRegistry,
    RateLimited,
    StatusUpdate,
    StoredObject,
    SwitchboardError,
    VerificationFailed,
    WebhookRequest,
    WebhookResponse,
)

from ..logs import log_context, log_event
from ..settings import Settings
from ..storage.conventions import allowed_days, expires_at
from ..storage.documents import RESERVED_METADATA
from ..storage.ids import message_id_for
from ..storage.inbound import InboundWrite
from ..storage.keys import TenantKeys
from ..storage.payloads import PayloadArchive
from ..storage.store import TicketStore
from ..tenancy.retention import Retention
from ..tenancy.tenants import TenantDirectory, TenantRecord

log = logging.getLogger(__name__)
REPLAY_MEMORY = timedelta(days=2)  # longer than any provider retries with one signature
PARSE_CRASHED = "the channel could not read this payload"  # the reason kept with a crashed parse


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
        with log_context(tenant=request.tenant_id, plugin=request.channel):
            return self._handle(request)

    def _handle(self, request: WebhookRequest) -> WebhookResponse:
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
        updates = self.registry.status(request.channel, request, config)
        if updates is not None:  # a delivery-status callback for our replies, not messages
            return self._statuses(request, config, updates)
        info = self.registry.info(request.channel, "channel")
        retries = info is None or info.retries_webhooks
        replay_key = self.registry.replay_key(request.channel, request, config)
        arrival = Arrival(request.tenant_id, request.channel, request.body, request.received_at,
                          Retention.of(tenant.settings),
                          request.headers.get("content-type", "application/octet-stream"))
        parsed = self._parse(arrival, lambda: self.registry.parse(request.channel, request, config))
        if replay_key:
            self._claim(request, replay_key, parsed)
        if self.rate_limit is not None and retries:
            self.rate_limit(request.tenant_id)  # refused before anything is stored: the provider comes back
        report = self._keep(arrival, parsed)
        if self.rate_limit is not None and not retries:
            _count_stored(self.rate_limit, request.tenant_id)
        return self.registry.respond(request.channel, request, config, report) or _default_answer(report)

    def _statuses(self, request: WebhookRequest, config: BaseModel, updates: list[StatusUpdate]) -> WebhookResponse:
        """Apply a provider's status callback to the replies it names (each update one
        conditional write that applies only if it moves the reply forward)."""
        replies = self.store.replies(request.tenant_id)
        applied = sum(replies.apply(request.channel, update, at=request.received_at) for update in updates)
        log_event(log, "reply.status", updates=len(updates), applied=applied,
                  statuses=",".join(sorted({u.status for u in updates})))
        report = IngestReport()
        return self.registry.respond(request.channel, request, config, report) or _default_answer(report)

    def handle_object(self, obj: StoredObject) -> IngestReport:
        """Ingest a payload an AWS service stored for ``obj.channel`` (no signature: IAM).

        The object arrived untagged: it is tagged first with the tenant's retention
        for raw payloads (never longer than its messages'), or, when it cannot be
        routed, the deployment's ``inbound_retention_days``, so no object under
        ``inbound/`` is kept forever.
        """
        with log_context(tenant=obj.tenant_id, plugin=obj.channel):
            return self._handle_object(obj)

    def _handle_object(self, obj: StoredObject) -> IngestReport:
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
        parsed = self._parse(arrival, lambda: self.registry.parse_object(obj.channel, obj, config))
        if parsed.messages is None and parsed.problem is None:
            raise NotFound(f"channel {obj.channel!r} takes no stored objects")
        try:
            return self._keep(arrival, parsed)
        except PayloadTooLarge as err:  # nobody to answer: keep it aside, say why
            return self._quarantine(arrival, err.message)

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

    def _parse(self, arrival: Arrival, parse: Callable[[], list[InboundMessage] | None]) -> Parsed:
        """Run a plugin's parse of a verified payload. What it cannot read is a
        reason to quarantine, never a crash: ``BadPayload`` keeps the plugin's
        reason; any other exception (a plugin bug) a generic one, and the log
        names the exception's type and where it was raised (not its message,
        which may quote the payload). Deliberate answers (401, 503, ...) pass."""
        try:
            return Parsed(parse(), None)
        except BadPayload as err:
            return Parsed(None, err.message)
        except SwitchboardError as err:
            if not isinstance(err, PluginConfigError):  # a plugin's broken result is its bug: quarantine
                raise
            problem: Exception = err
        except Exception as err:
            problem = err
        frames = traceback.extract_tb(problem.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        log_event(log, "ingest.parse_crashed", level=logging.ERROR, error_type=type(problem).__name__, at=where)
        return Parsed(None, PARSE_CRASHED)

    def _claim(self, request: WebhookRequest, replay_key: str, parsed: Parsed) -> None:
        """Claim the request's one-time token before anything is stored (one
        conditional PutItem); refused when another request claimed it."""
        expires = int((request.received_at + REPLAY_MEMORY).timestamp())
        claimed = self.store.inbound(request.tenant_id).claim_replay(
            request.channel, replay_key, parsed.fingerprint(request.body), expires_at=expires)
        if not claimed:
            log_event(log, "ingest.replay_refused", level=logging.WARNING)
            raise VerificationFailed("this request was already received (replayed token)")

    def _keep(self, arrival: Arrival, parsed: Parsed) -> IngestReport:
        """Store the parsed messages, or quarantine what did not parse."""
        if parsed.messages is None:
            return self._quarantine(arrival, parsed.problem or PARSE_CRASHED)
        try:
            return self._store_messages(arrival, parsed.messages)
        except BadPayload as err:
            return self._quarantine(arrival, err.message)

    def _store_messages(self, arrival: Arrival, messages: list[InboundMessage]) -> IngestReport:
        """Every message of the payload, or none: all are checked and their writes
        built before the first is stored."""
        for message in messages:
            if message.tenant_id != arrival.tenant_id or message.channel != arrival.channel:
                raise BadPayload("plugin produced a message for another tenant or channel")
            if any(name.startswith(RESERVED_METADATA) for name in message.metadata):
                raise BadPayload(f"plugin produced metadata named {RESERVED_METADATA}*, which is the hub's")
        raw_ref, inline = self._raw(arrival)
        expires = expires_at(arrival.received_at, arrival.retention.inbound_days)
        tenant_store = self.store.inbound(arrival.tenant_id)
        batch = [m.provider_message_id for m in messages] if inline is not None and len(messages) > 1 else []
        writes: list[InboundWrite] = []
        ids = []
        for message in messages:
            kept = message.model_copy(update={
                "raw_payload_ref": raw_ref, "attachments": self._upload(arrival, message),
            })
            others = [pid for pid in batch if pid != message.provider_message_id]
            writes.append(tenant_store.inbound_write(kept, raw=inline, expires_at=expires, batch=others))
            ids.append(message_id_for(kept))
        stored = sum(tenant_store.put_inbound(write) for write in writes)
        log_event(log, "ingest.stored", messages=len(messages), new=stored)
        return IngestReport(stored=stored, duplicates=len(messages) - stored, message_ids=tuple(ids))

    def _upload(self, arrival: Arrival, message: InboundMessage) -> list[AttachmentRef]:
        """Attachments handed over as bytes go to S3 (keyed by message and content: repeats overwrite)."""
        keys, message_id = TenantKeys(arrival.tenant_id), message_id_for(message)
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
        keys = TenantKeys(arrival.tenant_id)
        return self.archive.keep_raw(keys, arrival.channel, arrival.body, arrival.received_at,
                                     retention_days=arrival.retention.inbound_days), None

    def _quarantine(self, arrival: Arrival, reason: str) -> IngestReport:
        keys = TenantKeys(arrival.tenant_id)
        quarantine_id = self.archive.quarantine(
            keys, arrival.channel, arrival.body, reason, arrival.received_at, arrival.content_type,
            retention_days=arrival.retention.raw_days,
        )
        log_event(log, "ingest.quarantined", level=logging.WARNING, quarantine_id=quarantine_id, reason=reason)
        return IngestReport(quarantine_id=quarantine_id, quarantine_reason=reason)


def _count_stored(rate_limit: Callable[[str], None], tenant_id: str) -> None:
    """Count a request of a channel whose provider does not retry, after it was
    stored: it spends the tenant's budget (so channels that can wait are held
    back sooner) but is never refused; over the rate it is only logged."""
    try:
        rate_limit(tenant_id)
    except RateLimited:
        log_event(log, "ingest.over_rate_kept", level=logging.WARNING, tenant=tenant_id)


@dataclass(frozen=True)
class Parsed:
    """A plugin's parse: its messages (``None``: nothing to store, see ``problem``)."""

    messages: list[InboundMessage] | None
    problem: str | None  # why the payload is quarantined

    def fingerprint(self, body: bytes) -> str:
        """What makes two requests with one token the same delivery: the ids of the
        messages (a provider's retry may encode the body differently, e.g. a new
        multipart boundary), or the body itself when it did not parse."""
        if self.messages is None:
            return "body:" + hashlib.sha256(body).hexdigest()
        ids = "\x1f".join(sorted(m.provider_message_id for m in self.messages))
        return "ids:" + hashlib.sha256(ids.encode("utf-8", "surrogatepass")).hexdigest()


def _default_answer(report: IngestReport) -> WebhookResponse:
    body = {"status": "quarantined" if report.quarantined else "accepted",
            "message_ids": list(report.message_ids)}
    return WebhookResponse(202, json.dumps(body), {"Content-Type": "application/json"})
