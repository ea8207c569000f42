"""A tenant's triage and automation rules (``/v1/rules``).

Any reading caller lists rules and their versions; tenant admins create, replace and
delete them (each change in the audit log, written with it; a replace or delete names
the version it read: 409 when it is not the current one any more). ``POST
/v1/rules/test`` (admins and supervisors) runs the saved rules — or rules sent with
the request, unsaved — over a sample ticket and says which would fire, in order, what
they would change and do, and for every rule that would not, why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from switchboard_sdk import (
    BadPayload,
    Conflict,
    Customer,
    InvalidInput,
    Message,
    NotFound,
    SlaTarget,
    Ticket,
    TicketPriority,
    TicketStatus,
)

from ..tenancy.audit import AuditLog
from ..workflow.changes import ChangeActor, FieldChange
from ..workflow.rules.evaluate import RuleContext, RuleMatch, RuleMiss, SideEffect, evaluate
from ..workflow.rules.models import Rule, RuleBody, RuleVersion, Trigger, new_rule_id
from ..workflow.rules.references import RuleReferences
from ..workflow.rules.store import RuleStore
from .access import ADMIN_SCOPES, Access, ApiCall, Caller

TEST_SCOPES = frozenset({"tenant-admin", "supervisor"})
POSITION_STEP = 10  # a new rule without a position goes this far after the last one
MAX_TEST_RULES = 200
IsOpen = Callable[[datetime], bool]


class RuleUpdate(RuleBody):
    """A whole rule, replacing the current one, and the version it was read at."""

    version: int = Field(ge=1, description="The version this change was based on (409 when it moved on).")


class RuleList(BaseModel):
    rules: list[Rule]


class RuleVersions(BaseModel):
    versions: list[RuleVersion] = Field(description="Newest first; a deleted rule's last one says `deleted`.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SampleTicket(_Strict):
    """The parts of a ticket the rules look at; the rest is filled in."""

    status: TicketStatus = "new"
    priority: TicketPriority = "normal"
    channel: str | None = Field(default=None, max_length=32)
    subject: str = Field(default="", max_length=1000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    category: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=35)
    assignee_id: str | None = Field(default=None, max_length=128)
    group_id: str | None = Field(default=None, max_length=64)
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    awaiting_since: datetime | None = None
    sla: list[SlaTarget] = Field(default_factory=list, max_length=10)


class SampleCustomer(_Strict):
    display_name: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=50)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=100)


class SampleMessage(_Strict):
    text: str = Field(default="", max_length=100_000)
    channel: str | None = Field(default=None, max_length=32)


class RuleTest(_Strict):
    trigger: Trigger
    ticket: SampleTicket = Field(default_factory=SampleTicket)
    customer: SampleCustomer | None = None
    message: SampleMessage | None = None
    changes: list[FieldChange] = Field(default_factory=list, max_length=20,
                                       description="ticket.updated: the change that started the run.")
    actor: ChangeActor | None = Field(default=None, description="ticket.updated: who made that change.")
    at: datetime | None = Field(default=None, description="When the run happens (default: now).")
    within_business_hours: bool | None = Field(default=None,
                                               description="Default: the tenant's calendar, else open.")
    rules: list[RuleBody] | None = Field(default=None, max_length=MAX_TEST_RULES,
                                         description="Unsaved rules to test instead of the saved ones.")


class RuleTestResult(BaseModel):
    trigger: Trigger
    fired: list[RuleMatch] = Field(description="In the order they would fire.")
    not_fired: list[RuleMiss] = Field(description="Rules of the trigger that would not fire, and why.")
    patch: dict[str, Any] = Field(description="The ticket changes all fired rules make together.")
    ticket: Ticket = Field(description="The sample ticket after them.")
    side_effects: list[SideEffect]
    chain: list[str] = Field(description="The rule chain the resulting change carries (loop guard).")


class RuleApi:
    def __init__(self, access: Access, rule_store_factory: Callable[[str], RuleStore], audit: AuditLog,
                 clock: Callable[[], datetime], *,
                 calendar: Callable[[str], IsOpen | None] | None = None,
                 on_change: Callable[[str], None] | None = None,
                 references: RuleReferences | None = None) -> None:
        self._access = access
        self._stores = rule_store_factory
        self._audit = audit
        self._clock = clock
        self._calendar = calendar  # tenant → its business hours' is_open (None: open around the clock)
        self._on_change = on_change  # tenant → e.g. RuleCache.forget, after a change
        self._references = references  # groups, agents, policies, templates a saved rule names must exist

    def list_rules(self, call: ApiCall) -> RuleList:
        caller = self._access.tenant(call)
        return RuleList(rules=self._stores(caller.tenant_id).rules())

    def get_rule(self, call: ApiCall, rule_id: str) -> Rule:
        caller = self._access.tenant(call)
        return _found(self._stores(caller.tenant_id).rule(rule_id))

    def rule_versions(self, call: ApiCall, rule_id: str) -> RuleVersions:
        caller = self._access.tenant(call)
        versions = self._stores(caller.tenant_id).versions(rule_id)
        if not versions:
            raise NotFound("no such rule")
        return RuleVersions(versions=versions)

    def create_rule(self, call: ApiCall) -> Rule:
        """201: the rule, version 1."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        body = call.json(RuleBody)
        store = self._stores(caller.tenant_id)
        position = body.position
        if position is None:
            position = max((r.position for r in store.rules()), default=0) + POSITION_STEP
        rule = self._stamped(body, caller, rule_id=new_rule_id(), version=1, position=position)
        self._check_references(caller, rule)
        store.create(rule, self._entry(caller, "rule.create", rule, None, rule))
        self._changed(caller)
        return rule

    def update_rule(self, call: ApiCall, rule_id: str) -> Rule:
        """PUT: the whole rule, with the ``version`` it was read at."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        body = call.json(RuleUpdate)
        store = self._stores(caller.tenant_id)
        before = _found(store.rule(rule_id))
        if body.version != before.version:
            raise _stale(before)
        position = before.position if body.position is None else body.position
        after = self._stamped(body, caller, rule_id=rule_id, version=before.version + 1, position=position)
        self._check_references(caller, after)
        store.update(before, after, self._entry(caller, "rule.update", after, before, after))
        self._changed(caller)
        return after

    def delete_rule(self, call: ApiCall, rule_id: str) -> RuleVersion:
        """The deleted rule's last version; ``?version=`` makes it conditional on that version."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        wanted = _version_param(call.param("version", 12))
        store = self._stores(caller.tenant_id)
        before = _found(store.rule(rule_id))
        if wanted is not None and wanted != before.version:
            raise _stale(before)
        last = before.model_copy(update={"version": before.version + 1, "updated_at": self._clock(),
                                         "updated_by": caller.created_by, "enabled": False})
        store.delete(before, last, self._entry(caller, "rule.delete", before, before, None))
        self._changed(caller)
        return RuleVersion(rule=last, deleted=True)

    def test_rules(self, call: ApiCall) -> RuleTestResult:
        caller = self._access.tenant(call, TEST_SCOPES)
        request = call.json(RuleTest)
        now = request.at or self._clock()
        if request.rules is not None:
            rules = [self._stamped(body, caller, rule_id=f"draft-{n}", version=1, position=body.position or n)
                     for n, body in enumerate(request.rules, 1)]
        else:
            rules = self._stores(caller.tenant_id).rules()
        run = evaluate(rules, _context(request, caller.tenant_id, now, self._is_open(request, caller)), explain=True)
        return RuleTestResult(trigger=run.trigger, fired=run.matched, not_fired=run.missed,
                              patch=run.patch.model_dump(mode="json", exclude_unset=True), ticket=run.ticket,
                              side_effects=run.side_effects, chain=list(run.chain))

    # -- helpers ---------------------------------------------------------------------------

    def _stamped(self, body: RuleBody, caller: Caller, *, rule_id: str, version: int, position: int) -> Rule:
        fields = body.model_dump(include=set(RuleBody.model_fields)) | {
            "id": rule_id, "version": version, "position": position, "updated_at": self._clock(),
            "updated_by": caller.created_by}
        return Rule.model_validate(fields)

    def _entry(self, caller: Caller, action: str, rule: Rule, before: Rule | None,
               after: Rule | None) -> dict[str, Any]:
        return self._audit.entry(caller.tenant_id, caller.actor, action, f"rule/{rule.id}",
                                 before=before.model_dump(mode="json") if before else None,
                                 after=after.model_dump(mode="json") if after else None)[1]

    def _check_references(self, caller: Caller, rule: Rule) -> None:
        if self._references is not None:
            self._references.check(caller.tenant_id, rule)

    def _changed(self, caller: Caller) -> None:
        if self._on_change is not None:
            self._on_change(caller.tenant_id)

    def _is_open(self, request: RuleTest, caller: Caller) -> IsOpen | None:
        if request.within_business_hours is not None:
            answer = request.within_business_hours
            return lambda _at: answer
        return self._calendar(caller.tenant_id) if self._calendar is not None else None


def _context(request: RuleTest, tenant_id: str, now: datetime, is_open: IsOpen | None) -> RuleContext:
    """The run's context: the sample, with what it leaves out filled in."""
    sample = request.ticket
    channel = sample.channel or (request.message.channel if request.message else None) or "web"
    fields = sample.model_dump(exclude={"channel", "created_at", "last_activity_at"}) | {
        "id": "tkt_sample", "tenant_id": tenant_id, "customer_id": "cus_sample", "channel": channel,
        "created_at": sample.created_at or now, "last_activity_at": sample.last_activity_at or now}
    ticket = _valid(Ticket, fields, "ticket")
    customer = None
    if request.customer is not None:
        customer = _valid(Customer, request.customer.model_dump() | {
            "id": "cus_sample", "tenant_id": tenant_id, "identities": [], "created_at": ticket.created_at}, "customer")
    message = None
    if request.message is not None:
        message = _valid(Message, {"id": "msg_sample", "tenant_id": tenant_id, "ticket_id": ticket.id,
                                   "customer_id": ticket.customer_id, "channel": channel,
                                   "provider_message_id": "sample", "text": request.message.text,
                                   "received_at": now}, "message")
    return RuleContext(ticket=ticket, trigger=request.trigger, now=now, customer=customer, message=message,
                       changes=request.changes, actor=request.actor, is_open=is_open)


def _valid(model: Any, fields: dict[str, Any], prefix: str) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise InvalidInput.from_validation_error(err, f"invalid sample {prefix}", prefix=f"{prefix}.") from None


def _version_param(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BadPayload("version must be a positive integer")
    return int(raw)


def _stale(current: Rule) -> Conflict:
    return Conflict(f"the rule is at version {current.version} now; read it again and retry")


def _found(rule: Rule | None) -> Rule:
    if rule is None:
        raise NotFound("no such rule")
    return rule
