"""A test-only channel whose JSON body spells out the InboundMessages it yields,
so hub behaviour (threading, follow-ups, attachments, replay keys, stored
objects) is tested without a provider's format in the way."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel, ConfigDict
from switchboard_sdk import (
    CONTRACT_VERSION,
    AttachmentRef,
    BadPayload,
    InboundMessage,
    OutboundMessage,
    PluginInfo,
    SendContext,
    SendOutcome,
    StatusUpdate,
    StoredObject,
    TransportError,
    VerificationFailed,
    WebhookRequest,
    hookimpl,
)

PROBE_TOKEN = "probe-token"


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = PROBE_TOKEN
    reply_url: str | None = None  # where replies are POSTed (a StatusServer in tests)


def _messages(tenant_id: str, body: bytes, received_at: Any) -> list[InboundMessage]:
    try:
        specs = json.loads(body)
    except ValueError as err:
        raise BadPayload("probe bodies are JSON") from err
    messages = []
    for spec in specs:
        attachments = [
            AttachmentRef(filename=a["filename"], content_type=a["type"], content=base64.b64decode(a["b64"]))
            for a in spec.pop("attachments_b64", [])
        ]
        messages.append(InboundMessage.model_validate(
            {"tenant_id": tenant_id, "channel": "probe", "received_at": received_at} | spec
            | {"attachments": attachments}
        ))
    return messages


class ProbeChannel:
    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="probe", kind="channel", config_model=ProbeConfig, contract_version=CONTRACT_VERSION,
                          sends_to=("email",))

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: ProbeConfig) -> bool:
        if request.header("x-probe-token") != config.token:
            raise VerificationFailed("bad probe token")
        return True

    @hookimpl
    def switchboard_channel_replay_key(self, request: WebhookRequest, config: ProbeConfig) -> str | None:
        return request.header("x-probe-once")

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: ProbeConfig) -> list[InboundMessage]:
        return _messages(request.tenant_id, request.body, request.received_at)

    @hookimpl
    def switchboard_channel_send(self, message: OutboundMessage, config: ProbeConfig,
                                 context: SendContext) -> SendOutcome:
        """POST the reply as JSON; the answer's ``sid`` is the provider id."""
        if config.reply_url is None:
            return SendOutcome.failed("probe: no reply_url", code="no_url")
        body = message.model_dump_json().encode()
        try:
            answer = context.http.request("POST", config.reply_url, headers={"Content-Type": "application/json"},
                                          body=body, timeout=context.timeout_seconds)
        except TransportError as err:
            return SendOutcome.retry(f"probe: {err.message}")
        if 200 <= answer.status < 300:
            return SendOutcome.sent(json.loads(answer.body)["sid"])
        if answer.status in (429, 503):
            return SendOutcome.retry(f"probe: answered {answer.status}", status_code=answer.status)
        return SendOutcome.failed(f"probe: answered {answer.status}", code=str(answer.status),
                                  status_code=answer.status)

    @hookimpl
    def switchboard_channel_status(self, request: WebhookRequest, config: ProbeConfig) -> list[StatusUpdate] | None:
        """A body ``{"statuses": [...]}`` is a status callback."""
        document = json.loads(request.body) if request.body.startswith(b"{") else None
        if not isinstance(document, dict) or "statuses" not in document:
            return None
        return [StatusUpdate.model_validate(update) for update in document["statuses"]]

    @hookimpl
    def switchboard_channel_parse_object(self, obj: StoredObject, config: ProbeConfig) -> list[InboundMessage]:
        return _messages(obj.tenant_id, obj.body, obj.received_at)


def spec(pid: str, *, email: str | None = "ada@example.com", **fields: Any) -> dict[str, Any]:
    """One message spec; ``email=None`` makes a follow-up without a customer."""
    customer = {"identities": [{"kind": "email", "value": email}]} if email else None
    return {"provider_message_id": pid, "customer": customer, "text": f"text of {pid}"} | fields
