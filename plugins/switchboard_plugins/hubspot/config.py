"""Tenant settings of the ``hubspot`` connector, and the HubSpot names it relies on.

The three ``switchboard_*`` names are custom properties the tenant creates once in
HubSpot (see ``docs/connectors/hubspot.md``): they carry Switchboard's ids, so a
record can be found again when the connector's own id mapping is lost.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from switchboard_sdk.models import TicketStatus
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_PIPELINE = "0"
# HubSpot's default help-desk pipeline "0": New, Waiting on contact, Waiting on us, Closed
DEFAULT_STAGES: dict[TicketStatus, str] = {"open": "1", "pending": "2", "solved": "3", "closed": "4"}

CUSTOMER_ID_PROPERTY = "switchboard_customer_id"  # on contacts
TICKET_ID_PROPERTY = "switchboard_ticket_id"  # on tickets
EVENT_ID_PROPERTY = "switchboard_event_id"  # on notes


class HubSpotConfig(BaseModel):
    """Where a tenant's HubSpot account is and how tickets land in its pipeline."""

    # hide_input: a mistyped token must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    access_token: SecretStr = Field(min_length=1, max_length=500)
    # the tenant may change it (tests point it at a fake): public addresses only, like every outbound URL
    base_url: Annotated[AnyHttpUrl, OUTBOUND_URL] = AnyHttpUrl(DEFAULT_BASE_URL)
    pipeline: str = Field(default=DEFAULT_PIPELINE, min_length=1, max_length=100)
    stage_by_status: dict[TicketStatus, str] = Field(default_factory=lambda: dict(DEFAULT_STAGES))
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    @field_validator("stage_by_status")
    @classmethod
    def _complete(cls, stages: dict[TicketStatus, str]) -> dict[TicketStatus, str]:
        # a tenant overriding one status ("solved" → "4") keeps the defaults of the others
        if any(not stage.strip() for stage in stages.values()):
            raise ValueError("stage ids must not be blank")
        return DEFAULT_STAGES | stages

    @property
    def api_root(self) -> str:
        """``base_url`` without its trailing slash, for joining ``/crm/v3/...`` paths."""
        return str(self.base_url).rstrip("/")

    def stage(self, status: TicketStatus) -> str:
        return self.stage_by_status[status]
