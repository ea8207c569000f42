"""The ``webhook`` connector's tenant configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from switchboard_sdk import standard_webhooks
from switchboard_sdk.secret_fields import rotates_into
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "webhook"


class WebhookConfig(BaseModel):
    """Where a tenant's events go and the secret they are signed with. During a
    rotation each request is signed with ``secret`` and ``previous_secret``, so
    the receiver may verify with either while it switches over."""

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    # the tenant chooses it: no loopback, private or metadata addresses (checked again on every call)
    url: Annotated[AnyHttpUrl, OUTBOUND_URL]
    secret: standard_webhooks.WhsecSecret = Field(json_schema_extra=rotates_into("previous_secret"))
    previous_secret: standard_webhooks.WhsecSecret | None = None
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    def signing_secrets(self) -> list[str]:
        """The current secret, then the one being rotated out."""
        secrets = [self.secret.get_secret_value()]
        if self.previous_secret is not None:
            secrets.append(self.previous_secret.get_secret_value())
        return secrets
