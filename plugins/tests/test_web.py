"""The ``web`` channel: conformance plus its own verification, parsing and answers."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError
from switchboard_plugins import web
from switchboard_plugins.web.config import WebConfig
from switchboard_sdk import standard_webhooks as sw
from switchboard_sdk.errors import BadPayload, PluginConfigError, VerificationFailed
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ChannelConformance
from switchboard_sdk.webhooks import IngestReport, WebhookRequest

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CURRENT = "whsec_" + base64.b64encode(b"current-secret-for-tests-32bytes").decode()
PREVIOUS = "whsec_" + base64.b64encode(b"previous-secret-for-tests-32byte").decode()

FULL = {
    "visitor_id": "v-123",
    "client_message_id": "cm-1",
    "text": "Where is my order #1042?",
    "name": "Ada Lovelace",
    "email": "Ada@Example.COM",
    "phone": "+1 (415) 555-0100",
    "page_url": "https://shop.example.com/orders/1042",
    "sent_at": "2026-01-02T03:04:00Z",
}
MINIMAL = {"visitor_id": "v-456", "client_message_id": "cm-2", "text": "hi"}
WITH_ATTACHMENTS = {
    "visitor_id": "v-789",
    "client_message_id": "cm-3",
    "text": "photo of the damage",
    "email": "bob@example.org",
    "attachments": [
        {"url": "https://cdn.example.com/u/1.jpg", "content_type": "image/jpeg",
         "filename": "1.jpg", "size_bytes": 48213},
        {"url": "https://cdn.example.com/u/2.pdf"},
    ],
}


def config(*secrets: str, tolerance: int = 300) -> WebConfig:
    return WebConfig(secrets=[SecretStr(s) for s in secrets or (CURRENT,)], tolerance_seconds=tolerance)


def signed(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = CURRENT,
    msg_id: str = "msg_2a1",
    sent: datetime = NOW,
    received_at: datetime = NOW,
) -> WebhookRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return WebhookRequest(
        tenant_id="t-acme",
        channel="web",
        method="POST",
        public_url="https://hub.example.com/hooks/t-acme/web",
        headers={"content-type": "application/json",
                 **sw.signed_headers(secret, msg_id, int(sent.timestamp()), body)},
        query={},
        body=body,
        received_at=received_at,
    )


def parse(request: WebhookRequest, cfg: WebConfig | None = None) -> InboundMessage:
    (message,) = web.plugin.switchboard_channel_parse(request=request, config=cfg or config())
    return message


class TestWebConformance(ChannelConformance):
    plugin = web.plugin

    def make_config(self) -> BaseModel:
        return config(CURRENT, PREVIOUS)

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        return [signed(FULL), signed(MINIMAL, msg_id="msg_2a2"), signed(WITH_ATTACHMENTS, msg_id="msg_2a3")]

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        headers = {k: v for k, v in request.headers.items() if k != "webhook-signature"}
        return replace(request, headers=headers)


# -- wiring -------------------------------------------------------------------


def test_is_discovered_through_its_entry_point() -> None:
    registry = build_plugin_manager(allowlist={"web"})
    info = registry.info("web", "channel")
    assert info is not None
    assert info.config_model is WebConfig


def test_the_hub_wrappers_verify_parse_and_answer() -> None:
    registry = build_plugin_manager(extra_plugins=[web.plugin], load_entry_points=False)
    cfg = registry.validate_config("web", {"secrets": [CURRENT]})
    request = signed(FULL)
    registry.verify("web", request, cfg)
    (message,) = registry.parse("web", request, cfg)
    answer = registry.respond("web", request, cfg, IngestReport(stored=1, message_ids=("m1",)))
    assert message.provider_message_id == "cm-1"
    assert answer is not None
    assert answer.status_code == 202


def test_has_no_handshake() -> None:
    registry = build_plugin_manager(extra_plugins=[web.plugin], load_entry_points=False)
    assert registry.handshake("web", replace(signed(MINIMAL), method="GET", body=b""), config()) is None


# -- normalisation ------------------------------------------------------------


def test_fields_are_normalised() -> None:
    message = parse(signed(FULL))
    values = {i.kind: i.value for i in message.customer.identities}
    assert values == {"phone": "+14155550100", "email": "ada@example.com", "visitor": "v-123"}
    assert message.customer.display_name == "Ada Lovelace"
    assert message.text == FULL["text"]
    assert message.sent_at == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert message.received_at == NOW
    assert (message.tenant_id, message.channel) == ("t-acme", "web")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("0044 20 7946 0958", "+442079460958"),
        ("+49-30-1234567", "+49301234567"),
        ("+14155550100", "+14155550100"),
    ],
)
def test_phones_become_e164(raw: str, normalised: str) -> None:
    message = parse(signed({**MINIMAL, "phone": raw}))
    assert message.customer.identities[0].value == normalised


@pytest.mark.parametrize(
    ("extra", "kinds"),
    [
        ({"phone": "+14155550100", "email": "a@b.co"}, ["phone", "email", "visitor"]),
        ({"email": "a@b.co"}, ["email", "visitor"]),
        ({"phone": "+14155550100"}, ["phone", "visitor"]),
        ({}, ["visitor"]),
    ],
)
def test_identities_are_ordered_phone_email_visitor(extra: dict[str, str], kinds: list[str]) -> None:
    message = parse(signed({**MINIMAL, **extra}))
    assert [i.kind for i in message.customer.identities] == kinds


def test_the_client_message_id_is_the_dedup_key_across_resends() -> None:
    first = parse(signed(FULL, msg_id="msg_first"))
    resent = parse(signed(FULL, msg_id="msg_resend", received_at=NOW + timedelta(seconds=30)))
    assert first.provider_message_id == resent.provider_message_id == "cm-1"
    assert (first.metadata["webhook_id"], resent.metadata["webhook_id"]) == ("msg_first", "msg_resend")


def test_metadata_holds_page_url_and_webhook_id_only_when_known() -> None:
    assert parse(signed(FULL)).metadata == {"page_url": FULL["page_url"], "webhook_id": "msg_2a1"}
    assert parse(signed(MINIMAL)).metadata == {"webhook_id": "msg_2a1"}


def test_attachments_become_refs() -> None:
    first, second = parse(signed(WITH_ATTACHMENTS)).attachments
    assert (first.url, first.content_type, first.filename, first.size_bytes) == (
        "https://cdn.example.com/u/1.jpg", "image/jpeg", "1.jpg", 48213)
    assert second.url == "https://cdn.example.com/u/2.pdf"
    assert (second.content_type, second.filename, second.size_bytes) == (None, None, None)


def test_blank_name_is_no_name() -> None:
    assert parse(signed({**MINIMAL, "name": "  "})).customer.display_name is None


# -- bad payloads -----------------------------------------------------------------

SECRETISH = "zz-private-value-zz"

BAD_BODIES: list[tuple[str, bytes | dict[str, Any], str]] = [
    ("invalid json", b'{"visitor_id": ', "JSON"),
    ("not utf-8", b"\xff\xfe{}", "body"),
    ("array", b"[1, 2]", "object"),
    ("string", b'"hello"', "object"),
    ("missing visitor_id", {k: v for k, v in MINIMAL.items() if k != "visitor_id"}, "visitor_id"),
    ("missing text", {k: v for k, v in MINIMAL.items() if k != "text"}, "text"),
    ("missing client_message_id", {k: v for k, v in MINIMAL.items() if k != "client_message_id"},
     "client_message_id"),
    ("text not a string", {**MINIMAL, "text": 42}, "text"),
    ("visitor_id not a string", {**MINIMAL, "visitor_id": {"x": SECRETISH}}, "visitor_id"),
    ("blank visitor_id", {**MINIMAL, "visitor_id": "   "}, "visitor_id"),
    ("visitor_id too long", {**MINIMAL, "visitor_id": SECRETISH * 10}, "visitor_id"),
    ("text too long", {**MINIMAL, "text": "x" * 100_001}, "text"),
    ("bad phone", {**MINIMAL, "phone": SECRETISH}, "phone"),
    ("bad email", {**MINIMAL, "email": SECRETISH}, "email"),
    ("naive sent_at", {**MINIMAL, "sent_at": "2026-01-02T03:04:00"}, "sent_at"),
    ("unknown field", {**MINIMAL, "phone_number": SECRETISH}, "phone_number"),
    ("script page_url", {**MINIMAL, "page_url": f"javascript:{SECRETISH}"}, "page_url"),
    ("attachment without url", {**MINIMAL, "attachments": [{"filename": "a"}]}, "attachments.0.url"),
    ("negative size", {**MINIMAL, "attachments": [{"url": "https://x.io/a", "size_bytes": -1}]},
     "size_bytes"),
]


@pytest.mark.parametrize(("body", "field"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_bad_payloads_raise_a_safe_bad_payload(body: bytes | dict[str, Any], field: str) -> None:
    with pytest.raises(BadPayload) as caught:
        parse(signed(body))
    assert field in caught.value.message
    assert SECRETISH not in caught.value.message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_many_errors_are_summarised() -> None:
    with pytest.raises(BadPayload, match=r"and \d+ more"):
        parse(signed({"attachments": [{}] * 6}))


# -- verification -------------------------------------------------------------------


def verify(request: WebhookRequest, cfg: BaseModel | None = None) -> bool:
    result = web.plugin.switchboard_channel_verify(request=request, config=cfg or config())
    return bool(result)


@pytest.mark.parametrize("skew", [301, -301])
def test_timestamps_outside_the_window_fail(skew: int) -> None:
    with pytest.raises(VerificationFailed):
        verify(signed(FULL, received_at=NOW + timedelta(seconds=skew)))


def test_the_tolerance_is_configurable() -> None:
    late = signed(FULL, received_at=NOW + timedelta(seconds=60))
    assert verify(late)
    with pytest.raises(VerificationFailed):
        verify(late, config(tolerance=30))


@pytest.mark.parametrize("stamp", ["9" * 400, "-5", "1e9", " 1767323045", "١٢٣"])
def test_odd_timestamps_fail_verification_cleanly(stamp: str) -> None:
    request = signed(FULL)
    with pytest.raises(VerificationFailed):
        verify(replace(request, headers={**request.headers, "webhook-timestamp": stamp}))


def test_rotated_secrets_accept_current_and_previous() -> None:
    rotating = config(CURRENT, PREVIOUS)
    assert verify(signed(FULL, secret=CURRENT), rotating)
    assert verify(signed(FULL, secret=PREVIOUS), rotating)
    with pytest.raises(VerificationFailed):
        verify(signed(FULL, secret=PREVIOUS), config(CURRENT))


def test_a_signature_from_another_tenant_fails() -> None:
    other = "whsec_" + base64.b64encode(b"another-tenant-secret-32-bytes!!").decode()
    with pytest.raises(VerificationFailed):
        verify(signed(FULL, secret=other))


class OtherConfig(BaseModel):
    secrets: list[str] = [CURRENT]


def test_a_foreign_config_is_a_plugin_error() -> None:
    for hook in (web.plugin.switchboard_channel_verify, web.plugin.switchboard_channel_parse):
        with pytest.raises(PluginConfigError):
            hook(request=signed(FULL), config=OtherConfig())


# -- answers ----------------------------------------------------------------------------


def respond(report: IngestReport) -> tuple[int, dict[str, Any], dict[str, str]]:
    answer = web.plugin.switchboard_channel_respond(request=signed(FULL), config=config(), report=report)
    return answer.status_code, json.loads(answer.body), answer.headers


def test_stored_and_duplicate_get_the_same_answer() -> None:
    stored = respond(IngestReport(stored=1, message_ids=("msg_9",)))
    duplicate = respond(IngestReport(duplicates=1, message_ids=("msg_9",)))
    assert stored == duplicate
    assert stored[0] == 202
    assert stored[1] == {"status": "accepted", "message_ids": ["msg_9"]}
    assert stored[2] == {"Content-Type": "application/json"}


def test_quarantine_is_answered_with_the_reason() -> None:
    reason = "invalid web message: text: Field required"
    status, body, _ = respond(IngestReport(quarantine_id="q_1", quarantine_reason=reason))
    assert status == 202
    assert body == {
        "status": "quarantined",
        "quarantine_id": "q_1",
        "error": {"code": "bad_payload", "message": reason},
    }


# -- config -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"secrets": []},
        {"secrets": ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]},  # no whsec_ prefix
        {"secrets": ["whsec_"]},
        {"secrets": ["whsec_not base64!!"]},
        {"secrets": ["whsec_" + base64.b64encode(b"k" * 16).decode()]},  # too short a key
        {"secrets": ["whsec_" + base64.b64encode(b"k" * 65).decode()]},
        {"secrets": [CURRENT] * 6},
        {"secrets": [CURRENT], "tolerance_seconds": 0},
        {"secrets": [CURRENT], "tolerance_seconds": 3601},
        {"secrets": [CURRENT], "secret": CURRENT},
    ],
)
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WebConfig.model_validate(raw)


def test_config_accepts_unpadded_secrets_and_hides_them() -> None:
    cfg = WebConfig.model_validate({"secrets": [CURRENT.rstrip("="), PREVIOUS]})
    assert cfg.tolerance_seconds == 300
    assert CURRENT.rstrip("=") not in repr(cfg) + cfg.model_dump_json()


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        config().tolerance_seconds = 5  # type: ignore[misc]


def test_config_errors_do_not_echo_a_malformed_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        WebConfig.model_validate({"secrets": ["whsec_TOPSECRET-but-malformed!"]})
    assert "TOPSECRET" not in str(caught.value)
