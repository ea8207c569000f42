"""A tenant's ``email`` channel settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from switchboard_sdk.transport import OUTBOUND_URL

CHANNEL = "email"  # the plugin's name; here so the hooks need not import the parser

# Mailgun retries a route POST it could not deliver for about 8 hours (intervals of
# 10 min, 15 min, 30 min, 1 h, 2 h, 4 h) and a retry carries the original
# timestamp/token/signature. 9 hours accepts the last retry with an hour to spare;
# the hub's one-time token store is what stops replays inside that window.
DEFAULT_TOLERANCE_SECONDS = 9 * 3600
MAX_TOLERANCE_SECONDS = 24 * 3600
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
DEFAULT_MAILGUN_API = "https://api.mailgun.net"  # EU domains: https://api.eu.mailgun.net
_HOSTNAME = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"

SendVia = Literal["ses", "mailgun"]


def _plain_address(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    local, at, domain = value.partition("@")
    if not (local and at and domain) or "@" in domain or "+" in local or any(c.isspace() for c in value):
        raise ValueError("must be a plain address such as support@example.com (no +tag)")
    return value


class EmailConfig(BaseModel):
    """Settings for both ingress paths (Mailgun route POSTs and SES → S3 objects).

    ``mailgun_signing_key`` is needed only for the Mailgun path; without it every
    Mailgun POST fails verification. ``support_address`` (``support@example.com``)
    restricts plus-address ticket tokens to ``support+REF@example.com``.

    Replies (all optional, so configs saved before replies existed keep loading;
    sending without ``from_address`` fails clearly): ``send_via`` picks SES or
    Mailgun (default: Mailgun when ``mailgun_api_key`` is set, else SES);
    ``from_address``/``from_name`` is the sender; ``mailgun_domain`` the Mailgun
    sending domain (default: ``from_address``'s); ``api_base_url`` Mailgun's API
    host; ``ses_configuration_set`` an SES configuration set for the sends;
    ``ses_message_id_domain`` overrides the domain of the Message-ID SES gives
    the mail (default from the client's region, see :mod:`.send`).
    """

    # hide_input: a malformed signing key must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    mailgun_signing_key: SecretStr | None = None
    tolerance_seconds: int = Field(default=DEFAULT_TOLERANCE_SECONDS, ge=60, le=MAX_TOLERANCE_SECONDS)
    support_address: str | None = Field(default=None, max_length=320)
    max_attachment_bytes: int = Field(default=DEFAULT_MAX_ATTACHMENT_BYTES, ge=0, le=SES_MAX_MESSAGE_BYTES)
    send_via: SendVia | None = None
    from_address: str | None = Field(default=None, max_length=320)
    from_name: str | None = Field(default=None, min_length=1, max_length=200)
    mailgun_api_key: SecretStr | None = Field(default=None, min_length=1, max_length=200)
    mailgun_domain: str | None = Field(default=None, max_length=253, pattern=_HOSTNAME)
    # the tenant may change it (EU region, tests): public addresses only, like every outbound URL
    api_base_url: Annotated[AnyHttpUrl, OUTBOUND_URL] = AnyHttpUrl(DEFAULT_MAILGUN_API)
    ses_configuration_set: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    ses_message_id_domain: str | None = Field(default=None, max_length=253, pattern=_HOSTNAME)

    @field_validator("mailgun_signing_key", "mailgun_api_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("support_address", "from_address")
    @classmethod
    def _plain_address(cls, value: str | None) -> str | None:
        return _plain_address(value)

    @field_validator("from_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # a header value: line breaks would let the name write headers of its own
        if value is None:
            return None
        return " ".join(value.split()) or None

    @property
    def sender(self) -> SendVia:
        """How replies go out: ``send_via``, else Mailgun when it has a key, else SES."""
        if self.send_via is not None:
            return self.send_via
        return "mailgun" if self.mailgun_api_key is not None else "ses"

    @property
    def reply_address(self) -> str | None:
        """The address whose ``+REF`` form goes in Reply-To: the one inbound threading
        accepts (``support_address`` when set), else ``from_address``."""
        return self.support_address or self.from_address

    @property
    def mailgun_root(self) -> str:
        """``api_base_url`` without its trailing slash, for joining ``/v3/...`` paths."""
        return str(self.api_base_url).rstrip("/")
