"""The ``odoo`` connector's tenant configuration."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from switchboard_sdk.models import TicketPriority, TicketStatus
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "odoo"  # the plugin's name; here so the package need not import the client
# the stages a new Helpdesk team has (helpdesk.stage names, English)
DEFAULT_HELPDESK_STAGES: dict[TicketStatus, str] = {
    "new": "New", "open": "In Progress", "pending": "On Hold", "on_hold": "On Hold", "solved": "Solved",
    "closed": "Solved", "merged": "Cancelled",
}
OdooPriority = Literal["0", "1", "2", "3"]  # helpdesk.ticket and crm.lead: Low, Medium, High, Urgent/Very High
DEFAULT_PRIORITIES: dict[TicketPriority, OdooPriority] = {"urgent": "3", "high": "2", "normal": "1", "low": "0"}
StageName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
AgentId = Annotated[str, Field(min_length=1, max_length=128)]


def _base_url(value: str) -> str:
    # netguard loads when a config is validated, not when the plugin is (cold starts)
    from switchboard_sdk.netguard import is_loopback_host

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute https URL, e.g. https://mycompany.odoo.com")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("must use https (plain http is allowed for localhost only)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not carry a query string, fragment or credentials")
    return urlunsplit(parts).rstrip("/")


class OdooConfig(BaseModel):
    """Where a tenant's Odoo is and how to reach it.

    ``protocol``: ``json2`` (Odoo 19+), ``jsonrpc`` (Odoo 14 to 18; needs ``login`` and
    ``database``) or ``auto`` (JSON-2, falling back to JSON-RPC when the server has
    no ``/json/2``). ``target_model``: ``auto`` uses ``helpdesk.ticket`` when the
    Helpdesk app is installed, else ``crm.lead``. ``reference_field``: an optional
    custom ``x_`` field on the target model holding the Switchboard ticket id.
    ``stage_by_status`` (helpdesk.stage names, merged over :data:`DEFAULT_HELPDESK_STAGES`)
    and ``lead_stage_by_status`` (crm.stage names; a status not listed leaves the stage
    alone) move records on ``ticket.updated``; ``priority_by_priority`` sets ``priority``;
    ``owner_by_agent`` maps agent ids to ``res.users`` ids (``user_id``): empty, owners
    are never touched.
    """

    # hide_input: a malformed API key must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    # public addresses only, like every URL a tenant sets (checked again on every call)
    base_url: Annotated[str, AfterValidator(_base_url), OUTBOUND_URL]
    database: str | None = Field(default=None, min_length=1, max_length=128)
    api_key: SecretStr = Field(min_length=1, max_length=512)
    login: str | None = Field(default=None, min_length=1, max_length=320)
    protocol: Literal["json2", "jsonrpc", "auto"] = "auto"
    target_model: Literal["auto", "helpdesk.ticket", "crm.lead"] = "auto"
    crm_lead_type: Literal["opportunity", "lead"] = "opportunity"
    reference_field: str | None = Field(default=None, pattern=r"^x_[a-z0-9_]{1,60}$")
    stage_by_status: dict[TicketStatus, StageName] = Field(default_factory=lambda: dict(DEFAULT_HELPDESK_STAGES))
    lead_stage_by_status: dict[TicketStatus, StageName] = Field(default_factory=dict)
    priority_by_priority: dict[TicketPriority, OdooPriority] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    owner_by_agent: dict[AgentId, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    @field_validator("stage_by_status")
    @classmethod
    def _stages(cls, value: dict[TicketStatus, str]) -> dict[TicketStatus, str]:
        return DEFAULT_HELPDESK_STAGES | value

    @field_validator("priority_by_priority")
    @classmethod
    def _priorities(cls, value: dict[TicketPriority, OdooPriority]) -> dict[TicketPriority, OdooPriority]:
        return DEFAULT_PRIORITIES | value

    def stage_name(self, model: str, status: TicketStatus) -> str | None:
        """The stage a record of ``model`` takes in ``status``; ``None``: leave it where it is."""
        stages = self.stage_by_status if model == "helpdesk.ticket" else self.lead_stage_by_status
        return stages.get(status)

    @model_validator(mode="after")
    def _jsonrpc_needs_a_login(self) -> OdooConfig:
        if self.protocol == "jsonrpc" and (self.login is None or self.database is None):
            raise ValueError("protocol 'jsonrpc' needs login and database")
        return self
