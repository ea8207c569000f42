"""Tenant settings of the ``hubspot`` connector, and the HubSpot names it relies on.

The three ``switchboard_*`` names are custom properties the tenant creates once in
HubSpot (see ``docs/connectors/hubspot.md``): they carry Switchboard's ids, so a
record can be found again when the connector's own id mapping is lost.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from switchboard_sdk.models import TicketPriority, TicketStatus
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_PIPELINE = "0"
# HubSpot's default help-desk pipeline "0": New, Waiting on contact, Waiting on us, Closed
DEFAULT_STAGES: dict[TicketStatus, str] = {"new": "1", "open": "1", "pending": "2", "on_hold": "3", "solved": "3",
                                           "closed": "4", "merged": "4"}
# the options of HubSpot's hs_ticket_priority (URGENT on accounts that offer it: map urgent to HIGH otherwise)
DEFAULT_PRIORITIES: dict[TicketPriority, str] = {"urgent": "URGENT", "high": "HIGH", "normal": "MEDIUM", "low": "LOW"}
PRIORITY_PROPERTY = "hs_ticket_priority"
OWNER_PROPERTY = "hubspot_owner_id"

CUSTOMER_ID_PROPERTY = "switchboard_customer_id"  # on contacts
TICKET_ID_PROPERTY = "switchboard_ticket_id"  # on tickets
EVENT_ID_PROPERTY = "switchboard_event_id"  # on notes


AgentId = Annotated[str, Field(min_length=1, max_length=128)]
OwnerId = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]  # HubSpot owner ids are numeric


class HubSpotConfig(BaseModel):
    """Where a tenant's HubSpot account is and how tickets land in its pipeline."""

    # hide_input: a mistyped token must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    access_token: SecretStr = Field(min_length=1, max_length=500)
    # the tenant may change it (tests point it at a fake): public addresses only, like every outbound URL
    base_url: Annotated[AnyHttpUrl, OUTBOUND_URL] = AnyHttpUrl(DEFAULT_BASE_URL)
    pipeline: str = Field(default=DEFAULT_PIPELINE, min_length=1, max_length=100)
    stage_by_status: dict[TicketStatus, str] = Field(default_factory=lambda: dict(DEFAULT_STAGES))
    priority_by_priority: dict[TicketPriority, str] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    # Switchboard agent id (a Cognito sub) → HubSpot owner id; empty: owners are never touched
    owner_by_agent: dict[AgentId, OwnerId] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    @field_validator("stage_by_status")
    @classmethod
    def _complete(cls, stages: dict[TicketStatus, str]) -> dict[TicketStatus, str]:
        # a tenant overriding one status ("solved" → "4") keeps the defaults of the others,
        # and a config written before new/on_hold/merged existed gets theirs
        if any(not stage.strip() for stage in stages.values()):
            raise ValueError("stage ids must not be blank")
        return DEFAULT_STAGES | stages

    @field_validator("priority_by_priority")
    @classmethod
    def _priorities(cls, values: dict[TicketPriority, str]) -> dict[TicketPriority, str]:
        if any(not value.strip() for value in values.values()):
            raise ValueError("priority values must not be blank")
        return DEFAULT_PRIORITIES | values

    @property
    def api_root(self) -> str:
        """``base_url`` without its trailing slash, for joining ``/crm/v3/...`` paths."""
        return str(self.base_url).rstrip("/")

    def stage(self, status: TicketStatus) -> str:
        return self.stage_by_status[status]

    def priority(self, priority: TicketPriority) -> str:
        return self.priority_by_priority[priority]

    @property
    def syncs_owners(self) -> bool:
        """Owners follow assignments only once the tenant mapped at least one agent."""
        return bool(self.owner_by_agent)

    def owner(self, agent_id: str | None) -> str:
        """The HubSpot owner of a ticket assigned to ``agent_id``; ``""`` (no owner) when unmapped."""
        return self.owner_by_agent.get(agent_id or "", "")
