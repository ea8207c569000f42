"""Agents and groups (``/v1/me``, ``/v1/agents``, ``/v1/groups``).

Any reading caller of a tenant lists its agents and groups; tenant admins (an
admin agent, or a tenant-admin key) create, change and remove them, and every
such change is in the tenant's audit log, written with it. The tenant always
comes from the caller's token or key.

Creating an agent creates its Cognito user with a temporary password, answered
once; deactivating disables the user (and the hub refuses the agent's tokens at
once: :mod:`.access` reads the agent on every call); removing deletes the user and
keeps the agent's record, marked ``removed``, so what it wrote still names it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from switchboard_sdk import BadPayload, Conflict, Forbidden, InvalidInput, NotFound

from ..agents.directory import (
    DEFAULT_CAPACITY,
    MAX_CAPACITY,
    MAX_GROUPS_PER_AGENT,
    Agent,
    AgentDirectory,
    AgentStore,
    AgentView,
    AssignmentMode,
    Availability,
    Group,
    Role,
    new_group_id,
)
from ..agents.pool import UserPool
from ..storage.conventions import iso
from ..storage.preferences import PreferenceStore
from ..tenancy.audit import AuditLog
from ..tenancy.tenants import TenantRecord
from .access import ADMIN_SCOPES, Access, ApiCall, Caller
from .session import EMAIL_PATTERN, NOT_SET_UP
from .ticket_params import FILTER_PARAMS, parse_filters

LISTED_STATUSES = {"active", "deactivated", "removed"}
MAX_VIEWS = 20
MAX_FILTER_VALUE = 4000
GroupIds = list[str]
T = TypeVar("T")
CAPACITY = "Open tickets automatic assignment gives the agent at most (0: none; a supervisor may assign more)."
ASSIGNMENT = ("round_robin: online agents in turn; least_loaded: the online agent holding fewest open tickets; "
              "manual: only by hand.")


class CreateAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254, description="The agent signs in with it.")
    name: str = Field(min_length=1, max_length=200)
    role: Role = "agent"
    group_ids: GroupIds = Field(default_factory=list, max_length=MAX_GROUPS_PER_AGENT)
    capacity: int = Field(default=DEFAULT_CAPACITY, ge=0, le=MAX_CAPACITY, description=CAPACITY)


class UpdateAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    status: Literal["active", "deactivated"] | None = None
    group_ids: GroupIds | None = Field(default=None, max_length=MAX_GROUPS_PER_AGENT,
                                       description="Replaces the agent's groups.")
    capacity: int | None = Field(default=None, ge=0, le=MAX_CAPACITY, description=CAPACITY)


class AgentCreated(BaseModel):
    agent: AgentView
    temporary_password: str = Field(description="Shown this once: the first sign-in must replace it.")


class AgentList(BaseModel):
    agents: list[AgentView]


ConsoleLanguage = Literal["en", "zh"]


class TenantInfo(BaseModel):
    name: str
    time_zone: str = Field(description="IANA time zone: the console shows every time in it.")
    language: ConsoleLanguage = Field(description="The console's language for agents who chose none.")


class SavedView(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=60)
    filters: dict[str, str] = Field(default_factory=dict, max_length=len(FILTER_PARAMS),
                                    description="GET /v1/tickets query parameters: " + ", ".join(FILTER_PARAMS))

    @field_validator("filters")
    @classmethod
    def _list_filters(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FILTER_PARAMS))
        if unknown:
            raise ValueError(f"not a ticket list filter: {', '.join(unknown)[:200]}")
        if any(len(v) > MAX_FILTER_VALUE for v in value.values()):
            raise ValueError(f"a filter's value is at most {MAX_FILTER_VALUE} characters")
        try:
            parse_filters(value)  # as GET /v1/tickets checks them
        except BadPayload as err:
            raise ValueError(err.message) from None
        return value


class Preferences(BaseModel):
    language: ConsoleLanguage | None = Field(default=None, description="None: the tenant's language.")
    views: list[SavedView] = Field(default_factory=list)


class PreferencesUpdate(BaseModel):
    """What to change (a field left out stays as it is)."""

    model_config = ConfigDict(extra="forbid")
    language: ConsoleLanguage | None = None
    views: list[SavedView] | None = Field(default=None, max_length=MAX_VIEWS)

    @field_validator("views")
    @classmethod
    def _distinct(cls, value: list[SavedView] | None) -> list[SavedView] | None:
        if value is not None and len({view.id for view in value}) < len(value):
            raise ValueError("each view needs an id of its own")
        return value


class Me(BaseModel):
    agent: AgentView
    tenant_id: str
    scopes: list[str] = Field(description="What the agent's role allows.")
    tenant: TenantInfo
    preferences: Preferences


class SetAvailability(BaseModel):
    model_config = ConfigDict(extra="forbid")
    availability: Availability


class CreateGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    assignment: AssignmentMode = Field(default="round_robin", description=ASSIGNMENT)


class UpdateGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    assignment: AssignmentMode | None = Field(default=None, description=ASSIGNMENT)


class GroupList(BaseModel):
    groups: list[Group]


class AgentApi:
    def __init__(self, access: Access, store: AgentStore, pool: UserPool | None, audit: AuditLog,
                 clock: Callable[[], datetime], *, tenant_of: Callable[[str], TenantRecord] | None = None,
                 preferences: PreferenceStore | None = None) -> None:
        self._access = access
        self._store = store
        self._pool = pool
        self._audit = audit
        self._clock = clock
        self._tenant_of = tenant_of  # the tenant's record (cached); None: named by its id, UTC, English
        self._preferences = preferences  # None: every agent has the defaults, and cannot change them

    # -- the caller itself -------------------------------------------------------

    def me(self, call: ApiCall) -> Me:
        """The agent, its scopes, its tenant's name, time zone and language, and its own preferences."""
        caller = self._access.agent(call)
        assert caller.agent is not None  # Access.agent admits agents only
        tenant = self._tenant_of(caller.tenant_id) if self._tenant_of else TenantRecord(
            id=caller.tenant_id, name=caller.tenant_id, created_at="")
        info = TenantInfo(name=tenant.name, time_zone=tenant.settings.time_zone,
                          language=_console_language(tenant.settings.language))
        stored = self._preferences.of(caller.tenant_id).get(caller.agent.id) if self._preferences else {}
        return Me(agent=caller.agent.view(), tenant_id=caller.tenant_id, scopes=sorted(caller.scopes), tenant=info,
                  preferences=Preferences.model_validate(stored))

    def set_preferences(self, call: ApiCall) -> Preferences:
        """Change the signed-in agent's language or saved views (one write; what is left out stays)."""
        caller = self._access.agent(call)
        assert caller.agent is not None
        request = call.json(PreferencesUpdate)
        if self._preferences is None:
            raise NotFound(NOT_SET_UP)
        changes = request.model_dump(mode="json", include=request.model_fields_set)
        if "views" in changes and changes["views"] is None:
            changes["views"] = []  # null views: none saved
        stored = self._preferences.of(caller.tenant_id).update(caller.agent.id, changes) if changes else \
            self._preferences.of(caller.tenant_id).get(caller.agent.id)
        return Preferences.model_validate(stored)

    def set_availability(self, call: ApiCall) -> AgentView:
        caller = self._access.agent(call)
        assert caller.agent is not None
        request, at = call.json(SetAvailability), iso(self._clock())
        if not self._store.of(caller.tenant_id).set_availability(caller.agent.id, request.availability, at):
            raise Forbidden("this agent is deactivated")
        return caller.agent.model_copy(update={"availability": request.availability, "availability_at": at}).view()

    # -- agents ------------------------------------------------------------------

    def list_agents(self, call: ApiCall) -> AgentList:
        caller = self._access.tenant(call)
        status = call.query.get("status")  # present, it must be one of them (``status=`` is not)
        if status is not None and status not in LISTED_STATUSES:
            raise BadPayload(f"status must be one of {', '.join(sorted(LISTED_STATUSES))}")
        agents = self._store.of(caller.tenant_id).agents()
        shown = [a for a in agents if a.status == status or (status is None and a.status != "removed")]
        return AgentList(agents=[a.view() for a in sorted(shown, key=lambda a: (a.name.lower(), a.id))])

    def get_agent(self, call: ApiCall, agent_id: str) -> AgentView:
        caller = self._access.tenant(call)
        return _found(self._store.of(caller.tenant_id).agent(agent_id)).view()

    def create_agent(self, call: ApiCall) -> AgentCreated:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request = call.json(CreateAgent)
        directory = self._store.of(caller.tenant_id)
        group_ids = _known_groups(directory, request.group_ids)
        pool = self._user_pool()
        email = request.email.strip().lower()
        user = pool.create_user(email, caller.tenant_id)
        now = iso(self._clock())
        agent = Agent(id=user.sub, username=user.username, tenant_id=caller.tenant_id, email=email, name=request.name,
                      role=request.role, status="active", group_ids=group_ids, capacity=request.capacity,
                      created_at=now, updated_at=now)
        try:
            directory.add_agent(agent, self._entry(caller, "agent.create", agent, None, agent))
        except Exception:
            pool.delete(user.username)  # no sign-in without its agent
            raise
        return AgentCreated(agent=agent.view(), temporary_password=user.temporary_password)

    def update_agent(self, call: ApiCall, agent_id: str) -> AgentView:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        changes = {k: v for k, v in call.json(UpdateAgent).model_dump(exclude_unset=True).items() if v is not None}
        directory = self._store.of(caller.tenant_id)
        before = _present(_found(directory.agent(agent_id)))
        if "group_ids" in changes:
            changes["group_ids"] = _known_groups(directory, changes["group_ids"])
        after = before.model_copy(update=changes | {"updated_at": iso(self._clock())})
        if after.status != before.status or after.role != before.role:
            _not_oneself(caller, before)
        action = "agent.update"
        if after.status != before.status:
            action = "agent.activate" if after.status == "active" else "agent.deactivate"
        if after.status == "active" and before.status != "active":
            self._user_pool().enable(before.username)  # first, so a failure leaves the agent deactivated
        directory.save_agent(before, after, self._entry(caller, action, after, before, after))
        if after.status == "deactivated" and before.status != "deactivated":
            self._user_pool().disable(before.username, before.email)  # after: its tokens are refused already
        return after.view()

    def remove_agent(self, call: ApiCall, agent_id: str) -> AgentView:
        """Delete the agent's sign-in; its record stays, ``removed``. Calling again
        finishes a removal whose Cognito call failed."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        directory = self._store.of(caller.tenant_id)
        before = _found(directory.agent(agent_id))
        after = before
        if before.status != "removed":
            _not_oneself(caller, before)
            now = iso(self._clock())
            after = before.model_copy(update={"status": "removed", "removed_at": now, "updated_at": now,
                                              "availability": "offline", "group_ids": []})
            directory.save_agent(before, after, self._entry(caller, "agent.remove", after, before, after))
        self._user_pool().delete(before.username)
        return after.view()

    # -- groups ------------------------------------------------------------------

    def list_groups(self, call: ApiCall) -> GroupList:
        caller = self._access.tenant(call)
        groups = self._store.of(caller.tenant_id).groups()
        return GroupList(groups=sorted(groups, key=lambda g: (g.name.lower(), g.id)))

    def get_group(self, call: ApiCall, group_id: str) -> Group:
        caller = self._access.tenant(call)
        return _found(self._store.of(caller.tenant_id).group(group_id))

    def create_group(self, call: ApiCall) -> Group:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request, now = call.json(CreateGroup), iso(self._clock())
        group = Group(id=new_group_id(), name=request.name, description=request.description,
                      assignment=request.assignment, created_at=now, updated_at=now)
        self._store.of(caller.tenant_id).add_group(group, self._entry(caller, "group.create", group, None, group))
        return group

    def update_group(self, call: ApiCall, group_id: str) -> Group:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        changes = {k: v for k, v in call.json(UpdateGroup).model_dump(exclude_unset=True).items() if v is not None}
        directory = self._store.of(caller.tenant_id)
        before = _found(directory.group(group_id))
        after = before.model_copy(update=changes | {"updated_at": iso(self._clock())})
        directory.save_group(before, after, self._entry(caller, "group.update", after, before, after))
        return after

    def delete_group(self, call: ApiCall, group_id: str) -> Group:
        """Take the group off its agents, then delete it (a failure part-way: call again)."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        directory = self._store.of(caller.tenant_id)
        group = _found(directory.group(group_id))
        members = [a for a in directory.agents() if group_id in a.group_ids]
        now = iso(self._clock())
        for agent in members:
            directory.save_agent(agent, agent.model_copy(update={
                "group_ids": [g for g in agent.group_ids if g != group_id], "updated_at": now}), None)
        entry = self._audit.entry(caller.tenant_id, caller.actor, "group.delete", f"group/{group_id}",
                                  before=group.model_dump(mode="json") | {"agent_ids": [a.id for a in members]})[1]
        directory.delete_group(group, entry)
        return group

    # -- helpers -----------------------------------------------------------------

    def _entry(self, caller: Caller, action: str, subject: Agent | Group, before: Agent | Group | None,
               after: Agent | Group | None) -> dict[str, Any]:
        kind = "agent" if isinstance(subject, Agent) else "group"
        return self._audit.entry(caller.tenant_id, caller.actor, action, f"{kind}/{subject.id}",
                                 before=_audit_view(before), after=_audit_view(after))[1]

    def _user_pool(self) -> UserPool:
        if self._pool is None:
            raise NotFound(NOT_SET_UP)
        return self._pool


def _console_language(tag: str) -> Literal["en", "zh"]:
    """The console's language for a tenant's (zh, zh-CN, zh-Hant → zh; everything else English)."""
    return "zh" if tag.split("-")[0].lower() == "zh" else "en"


def _audit_view(subject: Agent | Group | None) -> dict[str, Any] | None:
    if subject is None:
        return None
    view = subject.view() if isinstance(subject, Agent) else subject
    return view.model_dump(mode="json", exclude={"availability", "availability_at"})


def _found(found: T | None) -> T:
    if found is None:
        raise NotFound("no such agent or group")
    return found


def _present(agent: Agent) -> Agent:
    if agent.status == "removed":
        raise Conflict("this agent was removed; create it again to give it a sign-in")
    return agent


def _not_oneself(caller: Caller, agent: Agent) -> None:
    """An admin agent cannot lock itself out (another admin, or a tenant-admin key, can)."""
    if caller.agent is not None and caller.agent.id == agent.id:
        raise Conflict("you cannot change your own role or status, nor remove yourself")


def _known_groups(directory: AgentDirectory, group_ids: list[str]) -> list[str]:
    unique = list(dict.fromkeys(group_ids))
    missing = directory.missing_groups(unique) if unique else []
    if missing:
        message = f"no such group: {', '.join(missing)[:200]}"
        raise InvalidInput(message, [{"field": "group_ids", "message": message}])
    return unique
