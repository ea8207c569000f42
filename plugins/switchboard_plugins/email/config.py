"""A tenant's ``email`` channel settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

CHANNEL = "email"  # the plugin's name; here so the hooks need not import the parser

# Mailgun retries a route POST it could not deliver for about 8 hours (intervals of
# 10 min, 15 min, 30 min, 1 h, 2 h, 4 h) and a retry carries the original
# timestamp/token/signature. 9 hours accepts the last retry with an hour to spare;
# the hub's one-time token store is what stops replays inside that window.
DEFAULT_TOLERANCE_SECONDS = 9 * 3600
MAX_TOLERANCE_SECONDS = 24 * 3600
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024


class EmailConfig(BaseModel):
    """Settings for both ingress paths (Mailgun route POSTs and SES → S3 objects).

    ``mailgun_signing_key`` is needed only for the Mailgun path; without it every
    Mailgun POST fails verification. ``support_address`` (``support@example.com``)
    restricts plus-address ticket tokens to ``support+REF@example.com``.
    """

    # hide_input: a malformed signing key must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    mailgun_signing_key: SecretStr | None = None
    tolerance_seconds: int = Field(default=DEFAULT_TOLERANCE_SECONDS, ge=60, le=MAX_TOLERANCE_SECONDS)
    support_address: str | None = Field(default=None, max_length=320)
    max_attachment_bytes: int = Field(default=DEFAULT_MAX_ATTACHMENT_BYTES, ge=0, le=SES_MAX_MESSAGE_BYTES)

    @field_validator("mailgun_signing_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("support_address")
    @classmethod
    def _plain_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        local, at, domain = value.partition("@")
        if not (local and at and domain) or "@" in domain or "+" in local or any(c.isspace() for c in value):
            raise ValueError("must be a plain address such as support@example.com (no +tag)")
        return value
