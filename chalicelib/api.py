"""The tenant API: tickets (``/v1/tickets``) and deliveries (``/v1/deliveries``),
authorised by tenant API keys.

The tenant always comes from the key, never from the URL or the query.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from switchboard_sdk import BadPayload, Forbidden

from .deliveries import DeliveryLog
from .replay import Replayer, ReplayFilter
from .store import MAX_PAGE, TicketStore
from .tenants import TenantDirectory

READ_SCOPES = {"tenant-admin", "agent", "read-only"}
STATUSES = {"open", "pending", "solved", "closed"}


class TicketApi:
    def __init__(self, tenants: TenantDirectory, store: TicketStore) -> None:
        self._tenants = tenants
        self._store = store

    def _tenant_store(self, authorization: str | None) -> Any:
        key = self._tenants.authenticate(authorization)
        if not READ_SCOPES & set(key.scopes):
            raise Forbidden("this key may not read tickets")
        return self._store.tenant(key.tenant_id)

    def list_tickets(self, authorization: str | None, params: dict[str, str]) -> dict[str, Any]:
        store = self._tenant_store(authorization)
        status = params.get("status") or None
        if status is not None and status not in STATUSES:
            raise BadPayload(f"status must be one of {', '.join(sorted(STATUSES))}")
        limit = _limit(params.get("limit"))
        tickets, cursor = store.list_tickets(status=status, limit=limit, before=params.get("cursor") or None)
        return {"tickets": [t.model_dump(mode="json") for t in tickets], "next_cursor": cursor}

    def get_ticket(self, authorization: str | None, ticket_id: str) -> dict[str, Any]:
        store = self._tenant_store(authorization)
        ticket, messages = store.get_ticket(ticket_id)
        return {"ticket": ticket.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages]}


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return 50
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadPayload(f"limit must be an integer from 1 to {MAX_PAGE}")
    return int(raw)


ADMIN_SCOPES = {"tenant-admin"}


class DeliveryApi:
    """``/v1/deliveries``: the delivery log (read scopes) and replay (tenant-admin)."""

    def __init__(self, tenants: TenantDirectory, log: DeliveryLog, replayer: Replayer) -> None:
        self._tenants = tenants
        self._log = log
        self._replayer = replayer

    def _tenant(self, authorization: str | None, scopes: set[str]) -> str:
        key = self._tenants.authenticate(authorization)
        if not scopes & set(key.scopes):
            raise Forbidden("this key may not do that")
        return key.tenant_id

    def list_deliveries(self, authorization: str | None, params: dict[str, str]) -> dict[str, Any]:
        tenant_id = self._tenant(authorization, READ_SCOPES)
        limit, cursor = _limit(params.get("limit")), params.get("cursor") or None
        if params.get("ticket_id"):
            page, next_cursor = self._log.by_ticket(tenant_id, params["ticket_id"], limit=limit, before=cursor)
        elif params.get("connector"):
            page, next_cursor = self._log.by_connector(tenant_id, params["connector"], limit=limit, before=cursor)
        else:
            raise BadPayload("give ticket_id or connector")
        return {"deliveries": page, "next_cursor": next_cursor}

    def replay(self, authorization: str | None, body: bytes | str | None) -> dict[str, Any]:
        tenant_id = self._tenant(authorization, ADMIN_SCOPES)
        request = _replay_request(body or b"{}")
        if request.source == "log":
            if request.filter.connector is None:
                raise BadPayload("replay from the log needs a connector")
            report = self._replayer.from_log(tenant_id, request.filter.connector, request.filter)
        else:
            report = self._replayer.from_dead_letters(tenant_id, request.filter)
        return report.as_dict()


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["dlq", "log"] = "dlq"
    connector: str | None = Field(default=None, max_length=64)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    event_ids: list[str] = Field(default_factory=list, max_length=1000)

    @property
    def filter(self) -> ReplayFilter:
        return ReplayFilter(self.connector, self.since, self.until, frozenset(self.event_ids))


def _replay_request(body: bytes | str) -> ReplayRequest:
    try:
        return ReplayRequest.model_validate_json(body)
    except ValidationError as err:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors(include_input=False))
        raise BadPayload(f"invalid replay request: {fields}") from None
