"""The ``twilio`` channel's tenant configuration."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from switchboard_sdk.models import Identity
from switchboard_sdk.secret_fields import rotates_into
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "twilio"  # the plugin's name; here so the package need not import the parser
DEFAULT_GREETING = "Thank you for calling. Please leave a message after the beep."
DEFAULT_API_BASE_URL = "https://api.twilio.com"


def _e164(value: str) -> str:
    try:
        return Identity(kind="phone", value=value).value
    except ValidationError:
        # re-raised without the SDK error's text: it would echo the input value
        raise ValueError("must be an E.164 phone number, e.g. +14155550100") from None


def _sid(prefix: str, what: str) -> AfterValidator:
    pattern = re.compile(rf"{prefix}[0-9a-fA-F]{{32}}")

    def check(value: str) -> str:
        if not pattern.fullmatch(value.strip()):
            raise ValueError(f"must be {what}: {prefix} followed by 32 hexadecimal digits")
        return value.strip()

    return AfterValidator(check)


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return urlunsplit(parts).rstrip("/")


class TwilioConfig(BaseModel):
    """A tenant's ``twilio`` channel settings.

    ``public_base_url`` states the URL Twilio calls when it differs from the one the
    hub rebuilds (custom domain, proxy, base-path mapping): the signed URL is then
    this base + the path from ``/hooks/`` on + the request's query string.

    Replies go through the Messages API as ``account_sid`` (Basic auth, the
    ``auth_token`` as password), from the number the customer wrote to, or through
    ``messaging_service_sid`` when set.
    """

    # hide_input: a malformed token must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    # a replaced token stays valid as previous_auth_token for the hub's grace period
    auth_token: SecretStr = Field(min_length=1, max_length=256, json_schema_extra=rotates_into("previous_auth_token"))
    previous_auth_token: SecretStr | None = Field(default=None, min_length=1, max_length=256)
    public_base_url: Annotated[str, AfterValidator(_base_url)] | None = None
    # optional so configs written before replies existed stay valid; sending without it fails with a reason
    account_sid: Annotated[str, _sid("AC", "the Account SID")] | None = None
    messaging_service_sid: Annotated[str, _sid("MG", "a Messaging Service SID")] | None = None
    # the tenant may change it (a regional edge, the local sandbox): judged like every outbound URL
    api_base_url: Annotated[AnyHttpUrl, OUTBOUND_URL] = AnyHttpUrl(DEFAULT_API_BASE_URL)
    voice_mode: Literal["voicemail", "forward"] = "voicemail"
    greeting: str = Field(default=DEFAULT_GREETING, max_length=1000)
    forward_to: Annotated[str, AfterValidator(_e164)] | None = None
    max_recording_seconds: int = Field(default=120, ge=5, le=3600)
    transcribe: bool = True
    language: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

    @model_validator(mode="after")
    def _forward_needs_a_number(self) -> TwilioConfig:
        if self.voice_mode == "forward" and self.forward_to is None:
            raise ValueError("forward_to is required when voice_mode is 'forward'")
        return self

    @property
    def api_root(self) -> str:
        """``api_base_url`` without its trailing slash, for joining ``/2010-04-01/...``."""
        return str(self.api_base_url).rstrip("/")

    def auth_tokens(self) -> list[str]:
        """The current token, then the one being rotated out."""
        tokens = [self.auth_token.get_secret_value()]
        if self.previous_auth_token is not None:
            tokens.append(self.previous_auth_token.get_secret_value())
        return tokens
