"""The ``widget`` channel: conformance, its config, verification (token, origin, seal), parsing and sends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError
from switchboard_plugins import widget
from switchboard_plugins.widget.config import WidgetConfig
from switchboard_plugins.widget.verify import SEAL_HEADER
from switchboard_sdk import visitor_tokens
from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.models import Identity, InboundMessage
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.sending import SendContext
from switchboard_sdk.testing import ChannelConformance, sample_outbound
from switchboard_sdk.visitor_tokens import VisitorClaims
from switchboard_sdk.webhooks import IngestReport, WebhookRequest

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "token-secret-for-the-widget-tests-0123456789"  # noqa: S105 - a test secret
SITE = "https://shop.example.com"
TENANT = "t-acme"


def config(**changes: Any) -> WidgetConfig:
    return WidgetConfig.model_validate({"allowed_origins": [SITE], "token_secret": SECRET} | changes)


def claims(**changes: Any) -> VisitorClaims:
    base = VisitorClaims(tenant=TENANT, visitor="v_abc123", issued_at=int(NOW.timestamp()) - 10,
                         expires_at=int(NOW.timestamp()) + 3600)
    return replace(base, **changes)


def request(body: dict[str, Any] | bytes, *, who: VisitorClaims | None = None, origin: str = SITE,
            secret: str = SECRET, sealed: bool = True) -> WebhookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    token = visitor_tokens.issue(who or claims(), secret)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}", "origin": origin}
    if sealed:
        headers[SEAL_HEADER] = visitor_tokens.seal(secret, TENANT, token, raw)
    return WebhookRequest(tenant_id=TENANT, channel="widget", method="POST", public_url="https://hub/widget",
                          headers=headers, query={}, body=raw, received_at=NOW)


def parse(req: WebhookRequest, cfg: WidgetConfig | None = None) -> InboundMessage:
    (message,) = widget.plugin.switchboard_channel_parse(request=req, config=cfg or config())
    return message


class TestWidgetConformance(ChannelConformance):
    plugin = widget.plugin

    def make_config(self) -> BaseModel:
        return config()

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        return [request({"client_message_id": "cm-1", "text": "Where is my order?"}),
                request({"client_message_id": "cm-2", "text": "你好", "language": "zh"},
                        who=claims(user="u-42", email="ada@example.com", name="Ada"))]

    def unsigned(self, req: WebhookRequest) -> WebhookRequest:
        return replace(req, headers={k: v for k, v in req.headers.items() if k != "authorization"})


# -- config ------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["*", "https://*.example.com", "http://shop.example.com", "https://shop.example.com/x",
                                   "shop.example.com", "https://user:pw@shop.example.com", "ftp://shop.example.com"])
def test_allowed_origins_are_exact_https_origins(given: str) -> None:
    with pytest.raises(ValidationError):
        config(allowed_origins=[given])


def test_origins_are_normalised_as_browsers_send_them() -> None:
    cfg = config(allowed_origins=["HTTPS://Shop.Example.com:443/", "http://127.0.0.1:8123", "https://a.example:8443"])
    assert cfg.allowed_origins == ["https://shop.example.com", "http://127.0.0.1:8123", "https://a.example:8443"]
    assert cfg.allows("https://shop.example.com")
    assert not cfg.allows("https://evil.example.com")
    assert not cfg.allows(None)
    assert not cfg.allows("null")


def test_secrets_are_long_and_hidden() -> None:
    with pytest.raises(ValidationError):
        config(token_secret="short")  # noqa: S106
    assert SECRET not in repr(config())
    assert SECRET not in str(config().model_dump())
    assert isinstance(config(identity_secret=SECRET).identity_secret, SecretStr)


# -- verification --------------------------------------------------------------------------


def verify(req: WebhookRequest, cfg: WidgetConfig | None = None) -> bool:
    return bool(widget.plugin.switchboard_channel_verify(request=req, config=cfg or config()))


def test_a_sealed_request_with_a_current_token_from_an_allowed_site_verifies() -> None:
    assert verify(request({"client_message_id": "a", "text": "hi"}))


@pytest.mark.parametrize("case", ["forged", "expired", "other_tenant", "other_site", "unsealed", "no_token"])
def test_anything_else_is_refused(case: str) -> None:
    body = {"client_message_id": "a", "text": "hi"}
    req = {
        "forged": lambda: request(body, secret="another-secret-that-is-long-enough-123456"),  # noqa: S106
        "expired": lambda: request(body, who=claims(expires_at=int(NOW.timestamp()) - 1)),
        "other_tenant": lambda: request(body, who=claims(tenant="t-other")),
        "other_site": lambda: request(body, origin="https://evil.example.com"),
        "unsealed": lambda: request(body, sealed=False),
        "no_token": lambda: replace(request(body), headers={"origin": SITE}),
    }[case]()
    with pytest.raises(VerificationFailed):
        verify(req)


# -- parsing -------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_their_visitor_id_and_a_resend_is_the_same_message() -> None:
    first = parse(request({"client_message_id": "cm-9", "text": "Hello", "language": "en"}))
    again = parse(request({"client_message_id": "cm-9", "text": "Hello"}))
    assert first.customer is not None
    assert first.customer.identities == [Identity(kind="visitor", value="v_abc123")]
    assert first.provider_message_id == again.provider_message_id == "v_abc123/cm-9"
    assert first.metadata["language"] == "en"
    assert first.sender_authenticated is None


def test_a_verified_user_is_the_users_identity_with_the_vouched_email_first() -> None:
    message = parse(request({"client_message_id": "c", "text": "hi"},
                            who=claims(user="u-42", email="ada@example.com", name="Ada")))
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == ["email:ada@example.com", "visitor:user:u-42"]
    assert message.customer.display_name == "Ada"
    assert message.sender_authenticated is True
    assert message.provider_message_id == "user:u-42/c"


def test_attachments_must_be_in_the_visitors_own_folder() -> None:
    folder = f"s3://bucket/attachments/{TENANT}/widget/{claims().folder}/x1/receipt.pdf"
    stranger = f"s3://bucket/attachments/{TENANT}/widget/{claims(visitor='v_other').folder}/x1/receipt.pdf"
    item = {"content_type": "application/pdf", "filename": "receipt.pdf", "size_bytes": 10}
    message = parse(request({"client_message_id": "c", "attachments": [item | {"url": folder}]}))
    assert [a.url for a in message.attachments] == [folder]
    with pytest.raises(BadPayload):
        parse(request({"client_message_id": "c", "attachments": [item | {"url": stranger}]}))


@pytest.mark.parametrize("body", [b"not json", b'{"client_message_id": "c"}',
                                  b'{"client_message_id": "c d", "text": "x"}',
                                  b'{"client_message_id": "c", "text": "x", "visitor": "v_other"}'])
def test_bad_bodies_are_bad_payloads(body: bytes) -> None:
    with pytest.raises(BadPayload):
        parse(request(body))


def test_the_answer_names_the_message_and_is_the_same_for_a_resend() -> None:
    req = request({"client_message_id": "c", "text": "hi"})
    answers = [widget.plugin.switchboard_channel_respond(request=req, config=config(), report=report)
               for report in (IngestReport(stored=1, message_ids=("m1",)), IngestReport(duplicates=1,
                                                                                        message_ids=("m1",)))]
    assert answers[0] == answers[1]
    assert answers[0].status_code == 202
    assert json.loads(answers[0].body) == {"id": "m1", "status": "accepted"}


# -- sending --------------------------------------------------------------------------------


def test_a_reply_is_sent_once_stored_under_its_own_id() -> None:
    registry = build_plugin_manager(extra_plugins=[widget.plugin], load_entry_points=False)
    message = sample_outbound("widget").model_copy(update={"to": Identity(kind="visitor", value="v_abc123")})
    context = SendContext(http=None, clock=lambda: NOW, timeout_seconds=1.0)  # type: ignore[arg-type]
    outcome = registry.send("widget", message, config(), context)
    assert (outcome.kind, outcome.provider_message_id) == ("sent", message.id)
    assert registry.infos["widget"].sends_to == ("visitor",)


def test_a_customer_without_a_visitor_is_not_sent_to() -> None:
    registry = build_plugin_manager(extra_plugins=[widget.plugin], load_entry_points=False)
    context = SendContext(http=None, clock=lambda: NOW, timeout_seconds=1.0)  # type: ignore[arg-type]
    outcome = registry.send("widget", sample_outbound("widget"), config(), context)
    assert outcome.kind == "failed"
    assert outcome.code == "no_visitor"


def test_ttl_bounds() -> None:
    with pytest.raises(ValidationError):
        config(token_ttl_seconds=10)
    assert config().token_ttl_seconds == int(timedelta(hours=1).total_seconds())
