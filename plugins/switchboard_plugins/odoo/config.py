"""The ``odoo`` connector's tenant configuration."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "odoo"  # the plugin's name; here so the package need not import the client


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
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    @model_validator(mode="after")
    def _jsonrpc_needs_a_login(self) -> OdooConfig:
        if self.protocol == "jsonrpc" and (self.login is None or self.database is None):
            raise ValueError("protocol 'jsonrpc' needs login and database")
        return self
