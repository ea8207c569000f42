"""A rule: when (a trigger), if (conditions), then (actions). Validated here, so a rule
that is stored can always run.

Triggers: ``ticket.created`` (the first message made the ticket), ``message.created``
(a later customer message), ``ticket.updated`` (someone or something changed it;
the ``changed`` and ``actor`` conditions look at that change) and ``time`` (``hours_since``
hours after the ticket was ``created``, last ``updated``, last changed status, or began
``awaiting`` an agent). Conditions: every one of ``all`` holds, and one of ``any`` when
it lists some. Actions run in order; the ticket's fields are changed through one
:class:`~chalicelib.workflow.changes.TicketPatch`, the rest (replies, notes, customer
changes, …) are side effects for the engine.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_sdk import TicketPriority

from ..changes import TAG_PATTERN
from .conditions import UPDATE_ONLY, Condition

Trigger = Literal["ticket.created", "message.created", "ticket.updated", "time"]
TimeSince = Literal["created", "updated", "status_changed", "awaiting_since"]
SettableStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]  # never "merged"
MAX_CONDITIONS = 50
MAX_ACTIONS = 20
MAX_HOURS = 24 * 365
Tags = Annotated[list[Annotated[str, Field(pattern=TAG_PATTERN)]], Field(min_length=1, max_length=50)]
Id = Annotated[str, Field(min_length=1, max_length=128)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetPriority(_Action):
    type: Literal["set_priority"] = "set_priority"
    priority: TicketPriority


class SetStatus(_Action):
    type: Literal["set_status"] = "set_status"
    status: SettableStatus


class SetCategory(_Action):
    """Set (or with ``null`` clear) the ticket's category."""

    type: Literal["set_category"] = "set_category"
    category: str | None = Field(max_length=64)


class AddTags(_Action):
    type: Literal["add_tags"] = "add_tags"
    tags: Tags


class RemoveTags(_Action):
    type: Literal["remove_tags"] = "remove_tags"
    tags: Tags


class AssignGroup(_Action):
    """Route to a group; its assignment policy picks the agent (the assignee is kept)."""

    type: Literal["assign_group"] = "assign_group"
    group_id: str = Field(min_length=1, max_length=64)


class AssignAgent(_Action):
    type: Literal["assign_agent"] = "assign_agent"
    agent_id: Id


class ApplySlaPolicy(_Action):
    type: Literal["apply_sla_policy"] = "apply_sla_policy"
    policy_id: Id


class SendTemplate(_Action):
    """Reply to the customer with a template (话术), in the ticket's language."""

    type: Literal["send_template"] = "send_template"
    code: str = Field(min_length=1, max_length=64)


class AddNote(_Action):
    """An internal note on the ticket (agents see it, the customer does not)."""

    type: Literal["add_note"] = "add_note"
    text: str = Field(min_length=1, max_length=5000)


class NotifyConnector(_Action):
    """Send the ticket (a ``ticket.updated`` event) to one enabled connector."""

    type: Literal["notify_connector"] = "notify_connector"
    connector: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=1000)


class SetCustomerTags(_Action):
    type: Literal["set_customer_tags"] = "set_customer_tags"
    add: list[Annotated[str, Field(pattern=TAG_PATTERN)]] = Field(default_factory=list, max_length=50)
    remove: list[Annotated[str, Field(pattern=TAG_PATTERN)]] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> SetCustomerTags:
        if not self.add and not self.remove:
            raise ValueError("give tags to add or remove")
        return self


class SetCustomerAttribute(_Action):
    """Set a customer attribute (``value: null`` removes it)."""

    type: Literal["set_customer_attribute"] = "set_customer_attribute"
    key: str = Field(min_length=1, max_length=64)
    value: str | None = Field(max_length=500)


Action = Annotated[
    SetPriority | SetStatus | SetCategory | AddTags | RemoveTags | AssignGroup | AssignAgent | ApplySlaPolicy
    | SendTemplate | AddNote | NotifyConnector | SetCustomerTags | SetCustomerAttribute,
    Field(discriminator="type"),
]


class Conditions(BaseModel):
    """Every condition of ``all`` holds, and (when ``any`` lists some) one of ``any``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    all: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    any: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)


class RuleBody(BaseModel):
    """What an admin writes: a rule without its id and bookkeeping."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    position: int | None = Field(default=None, ge=0, le=1_000_000,
                                 description="Order among the trigger's rules (lower first); default: last.")
    trigger: Trigger
    hours_since: float | None = Field(default=None, gt=0, le=MAX_HOURS, description="`time` rules only.")
    since: TimeSince | None = Field(default=None, description="`time` rules only: what the hours count from.")
    conditions: Conditions = Field(default_factory=Conditions)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)

    @model_validator(mode="after")
    def _fits_trigger(self) -> RuleBody:
        timed = self.hours_since is not None or self.since is not None
        if (self.trigger == "time") != timed or (timed and (self.hours_since is None or self.since is None)):
            raise ValueError("hours_since and since are required by, and only allowed with, the time trigger")
        used = {c.type for c in [*self.conditions.all, *self.conditions.any]}
        if self.trigger != "ticket.updated" and used & UPDATE_ONLY:
            raise ValueError(f"{', '.join(sorted(used & UPDATE_ONLY))} conditions need the ticket.updated trigger")
        return self


class Rule(RuleBody):
    """A stored rule: ``version`` grows with every save; every version is kept."""

    id: Id
    position: int = Field(ge=0, le=1_000_000)
    version: int = Field(ge=1)
    updated_at: datetime
    updated_by: str = Field(max_length=200)

    def body(self) -> RuleBody:
        return RuleBody.model_validate(self.model_dump(include=set(RuleBody.model_fields)))


class RuleVersion(BaseModel):
    """One saved version of a rule; ``deleted``: the version that removed it."""

    rule: Rule
    deleted: bool = False


def new_rule_id() -> str:
    return f"rul_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"
