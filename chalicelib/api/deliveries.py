"""The tenant API's deliveries (``/v1/deliveries``): the delivery log and replay.

Every method starts at :class:`~chalicelib.api.access.Access`: the tenant always
comes from the key, never from the URL or the query.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from switchboard_sdk import BadPayload

from ..pipeline.delivery_log import DeliveryLog
from ..pipeline.replay import Replayer, ReplayFilter
from ..storage.conventions import MAX_PAGE
from ..tenancy.audit import AuditLog
from .access import ADMIN_SCOPES, Access, ApiCall, page_limit


def _limit(raw: str | None) -> int:
    return page_limit(raw, MAX_PAGE)


class DeliveryApi:
    """``/v1/deliveries``: the delivery log (read scopes) and replay (tenant-admin)."""

    def __init__(self, access: Access, log: DeliveryLog, replayer: Replayer, audit: AuditLog) -> None:
        self._access = access
        self._audit = audit
        self._log = log
        self._replayer = replayer

    def list_deliveries(self, call: ApiCall) -> dict[str, Any]:
        params = call.query
        tenant_id = self._access.tenant(call).tenant_id
        limit, cursor = _limit(params.get("limit")), call.param("cursor")
        ticket_id, connector = call.param("ticket_id", 100), call.param("connector", 64)
        if ticket_id:
            page, next_cursor = self._log.by_ticket(tenant_id, ticket_id, limit=limit, before=cursor)
        elif connector:
            page, next_cursor = self._log.by_connector(tenant_id, connector, limit=limit, before=cursor)
        else:
            raise BadPayload("give ticket_id or connector")
        return {"deliveries": page, "next_cursor": next_cursor}

    def replay(self, call: ApiCall) -> dict[str, Any]:
        """Re-send events (customer data) to connectors: an admin action, audited."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request = call.optional_json(ReplayRequest)
        if request.source == "log":
            if request.filter.connector is None:
                raise BadPayload("replay from the log needs a connector")
            report = self._replayer.from_log(caller.tenant_id, request.filter.connector, request.filter)
        else:
            report = self._replayer.from_dead_letters(caller.tenant_id, request.filter)
        answer = report.as_dict()
        self._audit.record(caller.tenant_id, caller.actor, "deliveries.replay", f"deliveries/{request.source}",
                           after={"request": request.model_dump(mode="json"), "requeued": answer["requeued"]})
        return answer


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    source: Literal["dlq", "log"] = "dlq"
    connector: str | None = Field(default=None, max_length=64)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    event_ids: list[str] = Field(default_factory=list, max_length=1000)

    @property
    def filter(self) -> ReplayFilter:
        return ReplayFilter(self.connector, self.since, self.until, frozenset(self.event_ids))
