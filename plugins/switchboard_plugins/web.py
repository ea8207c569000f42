"""The ``web`` channel: signed server-to-server JSON from a business's site or app.

Requests are signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``). The tenant config holds one or more ``whsec_`` secrets so
a business can rotate without downtime. The channel has no GET handshake, so the
hub answers a GET with 405. See ``docs/channels/web.md``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from switchboard_sdk import standard_webhooks
from switchboard_sdk.errors import BadPayload, VerificationFailed, describe_validation_error
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, IdentityKind, InboundMessage
from switchboard_sdk.secret_fields import rotates_into
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

NAME = "web"
MAX_SECRETS = 5
_JSON_HEADERS = {"Content-Type": "application/json"}


# -- config -------------------------------------------------------------------




WhsecSecret = standard_webhooks.WhsecSecret


class WebConfig(BaseModel):
    """A tenant's ``web`` channel settings. List the current secret first; keep
    the previous one while senders switch over (a secret dropped from the list
    stays valid at its end for the hub's grace period)."""

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    secrets: list[WhsecSecret] = Field(
        min_length=1, max_length=MAX_SECRETS, json_schema_extra=rotates_into("secrets")
    )
    tolerance_seconds: int = Field(default=standard_webhooks.DEFAULT_TOLERANCE_SECONDS, ge=1, le=3600)


# -- request body -------------------------------------------------------------


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _identity_value(kind: IdentityKind, value: str) -> str:
    """Normalise through the SDK's Identity so web and SMS phones compare equal."""
    try:
        return Identity(kind=kind, value=value).value
    except ValidationError:
        # re-raise without the SDK error's text: it would echo the input value
        raise ValueError(f"not a valid {kind}") from None


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_http_url)]


# Request-body models: defer_build postpones the schema build to the first
# request; start-up needs only WebConfig.


class WebAttachment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    url: Url
    content_type: Text | None = None
    filename: Text | None = None
    size_bytes: int | None = Field(default=None, ge=0)


class WebMessage(BaseModel):
    """The JSON body a business posts. Unknown fields are rejected (a typo such
    as ``phone_number`` would otherwise drop an identity without a word)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    visitor_id: Key
    client_message_id: Key
    text: str = Field(max_length=100_000)
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    page_url: Url | None = None
    sent_at: AwareDatetime | None = None
    attachments: list[WebAttachment] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else _identity_value("email", value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _identity_value("phone", value)


def parse_body(body: bytes) -> WebMessage:
    """The request body as a :class:`WebMessage`, or :class:`BadPayload`."""
    try:
        return WebMessage.model_validate_json(body)
    except ValidationError as err:
        # field locations and pydantic's messages; never the offending input
        raise BadPayload(f"invalid web message: {describe_validation_error(err, root='body')}") from None


# -- normalisation --------------------------------------------------------------


def identities(message: WebMessage) -> list[Identity]:
    """Phone, then email, then visitor: the hub matches the first it knows, and
    the stronger, cross-channel identities should win over a browser id."""
    found: list[Identity] = []
    if message.phone:
        found.append(Identity(kind="phone", value=message.phone))
    if message.email:
        found.append(Identity(kind="email", value=message.email))
    found.append(Identity(kind="visitor", value=message.visitor_id))
    return found


def _metadata(message: WebMessage, webhook_id: str | None) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if message.page_url:
        metadata["page_url"] = message.page_url
    if webhook_id:
        metadata["webhook_id"] = webhook_id
    return metadata


def to_inbound(request: WebhookRequest, message: WebMessage) -> InboundMessage:
    """The normalised message. ``client_message_id`` is the de-duplication key
    (``webhook-id`` changes when the business re-sends the same message)."""
    return InboundMessage(
        tenant_id=request.tenant_id,
        channel=NAME,
        provider_message_id=message.client_message_id,
        customer=CustomerProfile(identities=identities(message), display_name=message.name or None),
        text=message.text,
        attachments=[AttachmentRef.model_validate(a.model_dump()) for a in message.attachments],
        received_at=request.received_at,
        sent_at=message.sent_at,
        metadata=_metadata(message, request.header("webhook-id")),
    )


# -- verification ----------------------------------------------------------------


def _as_config(config: BaseModel) -> WebConfig:
    return expect_config(config, WebConfig)


def _check_timestamp_header(request: WebhookRequest) -> None:
    # a huge integer would overflow the float comparison inside the SDK's verify
    stamp = request.header("webhook-timestamp")
    if stamp is not None and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise VerificationFailed("webhook-timestamp is not a Unix timestamp")


def verify_request(request: WebhookRequest, config: WebConfig) -> None:
    """Raise :class:`VerificationFailed` unless one configured secret signed ``request``."""
    _check_timestamp_header(request)
    standard_webhooks.verify(
        [secret.get_secret_value() for secret in config.secrets],
        request.headers,
        request.body,
        now=request.received_at,
        tolerance_seconds=config.tolerance_seconds,
    )


# -- responses --------------------------------------------------------------------


def _json(status: int, body: dict[str, Any]) -> WebhookResponse:
    import json  # lazy: only answers need it

    return WebhookResponse(status_code=status, body=json.dumps(body), headers=dict(_JSON_HEADERS))


def answer(report: IngestReport) -> WebhookResponse:
    """202 either way; stored and duplicate look identical so a resend learns nothing."""
    if report.quarantined:
        error = {"code": BadPayload.code, "message": report.quarantine_reason}
        return _json(202, {"status": "quarantined", "quarantine_id": report.quarantine_id, "error": error})
    return _json(202, {"status": "accepted", "message_ids": list(report.message_ids)})


# -- hooks --------------------------------------------------------------------------


class WebChannel:
    """The plugin object registered under the ``web`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="channel",
            contract_version=CONTRACT_VERSION,
            config_model=WebConfig,
            version="0.1.0",
            summary="Signed JSON messages from a business's own site or app (Standard Webhooks)",
            setup_steps=(
                "Have your server POST each message as JSON to {webhook_url}",
                "Sign every request per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) "
                "with the whsec_ secret you configured; see docs/channels/web.md",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        _as_config(config)
        return [to_inbound(request, parse_body(request.body))]

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        return answer(report)


plugin = WebChannel()

__all__ = ["WebAttachment", "WebChannel", "WebConfig", "WebMessage", "plugin"]
