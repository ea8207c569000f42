"""SLA policies and business-hours calendars (``/v1/sla-policies``, ``/v1/calendars``).

Any reading caller of a tenant lists and reads them; tenant admins create, replace
(``PUT`` with the ``version`` they read: another version is 409) and delete them,
each change written with its audit record. A policy in business hours must name an
existing calendar; a calendar that no policy uses may be deleted; a calendar must
open within two years of being saved. The tenant always comes from the caller.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import BadPayload, Conflict, InvalidInput, NotFound

from ..tenancy.audit import AuditLog
from ..workflow.calendar import BusinessCalendar, CalendarNeverOpens, CalendarSchedule
from ..workflow.sla import SlaPolicy, SlaPolicyFields
from ..workflow.sla_store import WorkflowConfig
from .access import ADMIN_SCOPES, READ_SCOPES, Access, ApiCall, Caller

T = TypeVar("T")
V = TypeVar("V", SlaPolicy, BusinessCalendar)
_VERSION = Field(ge=1, description="The version you read; another one means someone changed it since (409).")


class UpdateSlaPolicy(SlaPolicyFields):
    model_config = ConfigDict(extra="forbid")
    version: int = _VERSION


class UpdateCalendar(CalendarSchedule):
    model_config = ConfigDict(extra="forbid")
    version: int = _VERSION


class SlaPolicyList(BaseModel):
    policies: list[SlaPolicy] = Field(description="In the order they are tried: the first match applies.")


class CalendarList(BaseModel):
    calendars: list[BusinessCalendar]


class SlaApi:
    def __init__(self, access: Access, config_store_factory: Callable[[str], WorkflowConfig], audit: AuditLog,
                 clock: Callable[[], datetime]) -> None:
        self._access = access
        self._config = config_store_factory
        self._audit = audit
        self._clock = clock

    # -- policies -----------------------------------------------------------------------

    def list_policies(self, call: ApiCall) -> SlaPolicyList:
        caller = self._access.tenant(call, READ_SCOPES)
        return SlaPolicyList(policies=self._config(caller.tenant_id).load().policies)

    def get_policy(self, call: ApiCall, policy_id: str) -> SlaPolicy:
        caller = self._access.tenant(call, READ_SCOPES)
        return _found(self._config(caller.tenant_id).policy(policy_id), "SLA policy")

    def create_policy(self, call: ApiCall) -> SlaPolicy:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request, now = call.json(SlaPolicyFields), self._clock()
        config = self._config(caller.tenant_id)
        _known_calendar(config, request)
        policy = SlaPolicy.model_validate(request.model_dump() | {
            "id": _new_id("sla"), "version": 1, "created_at": now, "updated_at": now})
        config.put_policy(policy, self._entry(caller, "sla_policy.create", policy.id, None, policy),
                          expected_version=None)
        return policy

    def update_policy(self, call: ApiCall, policy_id: str) -> SlaPolicy:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request = call.json(UpdateSlaPolicy)
        config = self._config(caller.tenant_id)
        before = _same_version(_found(config.policy(policy_id), "SLA policy"), request.version)
        _known_calendar(config, request)
        after = SlaPolicy.model_validate(request.model_dump(exclude={"version"}) | {
            "id": before.id, "version": before.version + 1, "created_at": before.created_at,
            "updated_at": self._clock()})
        config.put_policy(after, self._entry(caller, "sla_policy.update", after.id, before, after),
                          expected_version=before.version)
        return after

    def delete_policy(self, call: ApiCall, policy_id: str) -> SlaPolicy:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        config = self._config(caller.tenant_id)
        policy = _found(config.policy(policy_id), "SLA policy")
        _same_version(policy, _version_param(call))
        config.delete_policy(policy, self._entry(caller, "sla_policy.delete", policy.id, policy, None))
        return policy

    # -- calendars ----------------------------------------------------------------------

    def list_calendars(self, call: ApiCall) -> CalendarList:
        caller = self._access.tenant(call, READ_SCOPES)
        calendars = self._config(caller.tenant_id).load().calendars.values()
        return CalendarList(calendars=sorted(calendars, key=lambda c: (c.name.lower(), c.id)))

    def get_calendar(self, call: ApiCall, calendar_id: str) -> BusinessCalendar:
        caller = self._access.tenant(call, READ_SCOPES)
        return _found(self._config(caller.tenant_id).calendar(calendar_id), "calendar")

    def create_calendar(self, call: ApiCall) -> BusinessCalendar:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request, now = call.json(CalendarSchedule), self._clock()
        calendar = self._opening(BusinessCalendar.model_validate(request.model_dump() | {
            "id": _new_id("cal"), "version": 1, "created_at": now, "updated_at": now}))
        self._config(caller.tenant_id).put_calendar(
            calendar, self._entry(caller, "calendar.create", calendar.id, None, calendar), expected_version=None)
        return calendar

    def update_calendar(self, call: ApiCall, calendar_id: str) -> BusinessCalendar:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request = call.json(UpdateCalendar)
        config = self._config(caller.tenant_id)
        before = _same_version(_found(config.calendar(calendar_id), "calendar"), request.version)
        after = self._opening(BusinessCalendar.model_validate(request.model_dump(exclude={"version"}) | {
            "id": before.id, "version": before.version + 1, "created_at": before.created_at,
            "updated_at": self._clock()}))
        config.put_calendar(after, self._entry(caller, "calendar.update", after.id, before, after),
                            expected_version=before.version)
        return after

    def delete_calendar(self, call: ApiCall, calendar_id: str) -> BusinessCalendar:
        """Refused (409) while a policy counts in it: change or delete those first."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        config = self._config(caller.tenant_id)
        snapshot = config.load()
        calendar = _found(snapshot.calendars.get(calendar_id), "calendar")
        _same_version(calendar, _version_param(call))
        users = [p.id for p in snapshot.policies if p.calendar_id == calendar_id]
        if users:
            raise Conflict(f"SLA policies use this calendar: {', '.join(users)[:200]}")
        config.delete_calendar(calendar, self._entry(caller, "calendar.delete", calendar.id, calendar, None))
        return calendar

    # -- helpers ------------------------------------------------------------------------

    def _opening(self, calendar: BusinessCalendar) -> BusinessCalendar:
        """``calendar``, if it opens within the search limit from now (SLA targets need it to)."""
        try:
            calendar.add_business_time(self._clock(), 1)
        except CalendarNeverOpens as err:
            raise InvalidInput(str(err), [{"field": "holidays", "message": str(err)}]) from err
        return calendar

    def _entry(self, caller: Caller, action: str, subject_id: str, before: BaseModel | None,
               after: BaseModel | None) -> dict[str, Any]:
        kind = "sla-policy" if action.startswith("sla_policy") else "calendar"
        return self._audit.entry(caller.tenant_id, caller.actor, action, f"{kind}/{subject_id}",
                                 before=before.model_dump(mode="json") if before else None,
                                 after=after.model_dump(mode="json") if after else None)[1]


def _known_calendar(config: WorkflowConfig, request: SlaPolicyFields) -> None:
    if request.calendar_id is not None and config.calendar(request.calendar_id) is None:
        message = "no such calendar"
        raise InvalidInput(message, [{"field": "calendar_id", "message": message}])


def _same_version(record: V, version: int | None) -> V:
    current = record.version
    if version is not None and version != current:
        raise Conflict(f"version {version} is not the current one ({current}); read it again and retry")
    return record


def _version_param(call: ApiCall) -> int | None:
    raw = call.param("version", 12)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadPayload("version must be a positive integer")
    return int(raw)


def _found(found: T | None, what: str) -> T:
    if found is None:
        raise NotFound(f"no such {what}")
    return found


def _new_id(prefix: str) -> str:
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"
