"""The ``salesforce`` connector's tenant configuration."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from switchboard_sdk.models import TicketPriority, TicketStatus
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "salesforce"  # the plugin's name; here so the package need not import the delivery code
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a password
MIN_API_VERSION = 46  # upsert answers 200 with the record id on update from v46.0 on (204, no body, before)
# values of the standard Case Status picklist (New, Working, Escalated, Closed)
DEFAULT_CASE_STATUS: dict[TicketStatus, str] = {
    "new": "New",
    "open": "New",
    "pending": "Working",
    "on_hold": "Working",
    "solved": "Closed",
    "closed": "Closed",
    "merged": "Closed",
}
# values of the standard Case Priority picklist (High, Medium, Low): no "Urgent" out of the box
DEFAULT_CASE_PRIORITY: dict[TicketPriority, str] = {"urgent": "High", "high": "High", "normal": "Medium", "low": "Low"}

# an sObject or field API name: it goes into URL paths, so no "/", "?", "." or spaces
ApiName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
_PICKLIST_VALUE = Field(min_length=1, max_length=255)
AgentId = Annotated[str, Field(min_length=1, max_length=128)]
# a User (005…) or Queue (00G…) id, 15 or 18 characters: what Case.OwnerId accepts
OwnerId = Annotated[str, Field(pattern=r"^(005|00G)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")]


def _salesforce_url(value: str) -> str:
    """An https URL (http only on loopback, for local fakes), without credentials, query or fragment."""
    from urllib.parse import urlsplit

    # netguard loads when a config is validated, not when the plugin is (cold starts)
    from switchboard_sdk.netguard import is_loopback_host

    parts = urlsplit(value.strip())
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError("must be an absolute URL with a host and no credentials")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        raise ValueError("must use https (http only for 127.0.0.1 / localhost)")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    return value.strip().rstrip("/")


def _bare_origin(value: str) -> str:
    # API paths are appended to the instance URL: a path here would silently misroute them
    if value.count("/") > 2:
        raise ValueError("must be the org's My Domain URL without a path, e.g. https://acme.my.salesforce.com")
    return value


# both URLs are called with the client secret or a token: public addresses only (checked again on every call)
SalesforceUrl = Annotated[str, AfterValidator(_salesforce_url), OUTBOUND_URL]


class SalesforceConfig(BaseModel):
    """A tenant's Salesforce org, connected app credentials and record mapping.

    ``token_url`` defaults to ``{instance_url}/services/oauth2/token`` (the client
    credentials flow must use the org's My Domain, not login.salesforce.com).
    ``case_status_by_status`` is merged over :data:`DEFAULT_CASE_STATUS`.
    ``case_priority_by_priority`` is merged over :data:`DEFAULT_CASE_PRIORITY`.
    ``owner_by_agent`` maps Switchboard agent ids to Case owners (User or Queue ids);
    an agent it does not list leaves the Case's owner as it is (OwnerId cannot be empty).
    ``comment_external_id_field`` switches comments from create-once (``CaseComment``
    has no external id field) to an idempotent upsert on a custom object.
    """

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    instance_url: Annotated[SalesforceUrl, AfterValidator(_bare_origin)]
    token_url: SalesforceUrl
    client_id: str = Field(min_length=1, max_length=256)
    client_secret: SecretStr = Field(min_length=1, max_length=256)
    api_version: str = Field(default="v60.0", pattern=r"^v[0-9]{2,3}\.0$")
    contact_external_id_field: ApiName = "Switchboard_Customer_Id__c"
    case_external_id_field: ApiName = "Switchboard_Ticket_Id__c"
    comment_object: ApiName = "CaseComment"
    comment_parent_field: ApiName = "ParentId"
    comment_body_field: ApiName = "CommentBody"
    comment_external_id_field: ApiName | None = None
    case_status_by_status: dict[TicketStatus, Annotated[str, _PICKLIST_VALUE]] = Field(
        default_factory=lambda: dict(DEFAULT_CASE_STATUS)
    )
    case_priority_by_priority: dict[TicketPriority, Annotated[str, _PICKLIST_VALUE]] = Field(
        default_factory=lambda: dict(DEFAULT_CASE_PRIORITY)
    )
    owner_by_agent: dict[AgentId, OwnerId] = Field(default_factory=dict)
    case_origin_by_channel: dict[str, Annotated[str, _PICKLIST_VALUE]] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    @model_validator(mode="before")
    @classmethod
    def _default_token_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("token_url") and isinstance(data.get("instance_url"), str):
            return {**data, "token_url": data["instance_url"].strip().rstrip("/") + TOKEN_PATH}
        return data

    @field_validator("api_version")
    @classmethod
    def _recent_enough(cls, value: str) -> str:
        if int(re.findall(r"[0-9]+", value)[0]) < MIN_API_VERSION:
            raise ValueError(f"must be v{MIN_API_VERSION}.0 or later")
        return value

    @field_validator("case_status_by_status")
    @classmethod
    def _over_defaults(cls, value: dict[TicketStatus, str]) -> dict[TicketStatus, str]:
        # a config written before new/on_hold/merged existed gets their defaults
        return {**DEFAULT_CASE_STATUS, **value}

    @field_validator("case_priority_by_priority")
    @classmethod
    def _priority_over_defaults(cls, value: dict[TicketPriority, str]) -> dict[TicketPriority, str]:
        return {**DEFAULT_CASE_PRIORITY, **value}

    @property
    def comments_upserted(self) -> bool:
        """Comments carry the message id in an external id field (replay-safe without the id map)."""
        return self.comment_external_id_field is not None

    def secrets(self) -> list[str]:
        """Values that must never reach an outcome reason."""
        return [self.client_secret.get_secret_value()]
