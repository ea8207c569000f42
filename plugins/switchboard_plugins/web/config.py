"""The ``web`` channel's tenant configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from switchboard_sdk import standard_webhooks
from switchboard_sdk.secret_fields import rotates_into
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "web"  # the plugin's name; here so the hooks need not import the parser
MAX_SECRETS = 5

WhsecSecret = standard_webhooks.WhsecSecret


class WebConfig(BaseModel):
    """A tenant's ``web`` channel settings. List the current secret first; keep
    the previous one while senders switch over (a secret dropped from the list
    stays valid at its end for the hub's grace period).

    Replies go to ``reply_url``, the business's own backend, signed with
    ``reply_signing_secret`` (its own secret: the backend that verifies replies need
    not hold the secrets the site signs messages with). During a rotation each reply
    is signed with both it and ``previous_reply_signing_secret``.
    """

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    secrets: list[WhsecSecret] = Field(
        min_length=1, max_length=MAX_SECRETS, json_schema_extra=rotates_into("secrets")
    )
    tolerance_seconds: int = Field(default=standard_webhooks.DEFAULT_TOLERANCE_SECONDS, ge=1, le=3600)
    # the tenant chooses it: no loopback, private or metadata addresses (checked again on every call)
    reply_url: Annotated[AnyHttpUrl, OUTBOUND_URL] | None = None
    reply_signing_secret: WhsecSecret | None = Field(
        default=None, json_schema_extra=rotates_into("previous_reply_signing_secret")
    )
    previous_reply_signing_secret: WhsecSecret | None = None

    @model_validator(mode="after")
    def _replies_are_signed(self) -> WebConfig:
        if self.reply_url is not None and self.reply_signing_secret is None:
            raise ValueError("reply_url needs a reply_signing_secret: replies are signed, and the backend "
                             "at reply_url must verify them")
        return self

    def reply_secrets(self) -> list[str]:
        """The secrets replies are signed with: the current one, then the one being rotated out."""
        held = (self.reply_signing_secret, self.previous_reply_signing_secret)
        return [secret.get_secret_value() for secret in held if secret is not None]
