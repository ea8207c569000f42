"""The ``web`` channel's tenant configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import standard_webhooks
from switchboard_sdk.secret_fields import rotates_into

NAME = "web"  # the plugin's name; here so the hooks need not import the parser
MAX_SECRETS = 5

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
