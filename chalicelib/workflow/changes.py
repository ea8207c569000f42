"""What changes a ticket, who changed it and why: the vocabulary every part of the
workflow shares (the API's PATCH, rules, assignment, SLA timers, the stream).

A :class:`TicketPatch` says what to set; :func:`apply_patch` turns a ticket and a
patch into the ticket after and the :class:`FieldChange` list the history keeps.
A :class:`ChangeActor` says who: an agent, a rule, the customer (their message),
the system (timers, the stream), a connector, an API key or the assistant (its
decisions and hand-offs, chalicelib/assistant). ``rule_chain`` carries
the rules whose actions led to a change, so a rule never fires on its own change
(the loop guard, :data:`MAX_RULE_CHAIN`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from switchboard_sdk import Ticket, TicketPriority, TicketStatus

ActorKind = Literal["agent", "rule", "customer", "system", "connector", "api_key", "assistant"]
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
SETTABLE_STATUSES: frozenset[str] = frozenset({"new", "open", "pending", "on_hold", "solved", "closed"})
OPEN_STATUSES: frozenset[str] = frozenset({"new", "open", "pending", "on_hold"})  # not yet solved
MAX_TAGS = 50
MAX_RULE_CHAIN = 10  # rules whose actions led here; longer chains stop (a loop among several rules)
TAG_PATTERN = r"^[\w][\w:./-]{0,63}$"
# the fields a change may set, in the order the history lists them
WORKFLOW_FIELDS = ("status", "priority", "assignee_id", "group_id", "category", "language", "tags", "sla_policy_id")


class ChangeActor(BaseModel):
    """Who made a change. ``id``/``name``: the agent, rule, connector or key; ``rule_chain``:
    the rules whose actions caused it (the rule itself last), for the loop guard."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ActorKind
    id: str | None = None
    name: str | None = None
    rule_chain: tuple[str, ...] = ()

    @classmethod
    def system(cls, name: str) -> ChangeActor:
        return cls(kind="system", name=name)

    @classmethod
    def customer(cls, customer_id: str) -> ChangeActor:
        return cls(kind="customer", id=customer_id)

    @classmethod
    def assistant(cls, plugin: str | None) -> ChangeActor:
        """The tenant's assistant (``plugin``: the one that decided; ``None``: none could)."""
        return cls(kind="assistant", id=plugin, name="Assistant")


class TicketPatch(BaseModel):
    """What to change on a ticket; fields left out stay as they are. ``assignee_id``,
    ``group_id``, ``category``, ``language`` and ``sla_policy_id`` may be set to ``null``
    (cleared: the first matching SLA policy applies again).
    ``tags`` replaces the tags; ``add_tags``/``remove_tags`` edit them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    assignee_id: str | None = Field(default=None, max_length=128)
    group_id: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    sla_policy_id: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    add_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    remove_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("status")
    @classmethod
    def _settable(cls, value: str | None) -> str | None:
        if value is not None and value not in SETTABLE_STATUSES:
            raise ValueError("a ticket becomes merged only through POST /v1/tickets/{id}/merge")
        return value

    @field_validator("tags", "add_tags", "remove_tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else valid_tags(value)

    def is_empty(self) -> bool:
        return not (self.model_fields_set - {"add_tags", "remove_tags"}) and not self.add_tags \
            and not self.remove_tags

    def merged_with(self, later: TicketPatch) -> TicketPatch:
        """This patch, then ``later`` (later wins per field; tag edits accumulate)."""
        data = self.model_dump(exclude_unset=True) | later.model_dump(exclude_unset=True)
        data["add_tags"] = [*self.add_tags, *later.add_tags]
        data["remove_tags"] = [*self.remove_tags, *later.remove_tags]
        return TicketPatch.model_validate(data)


class FieldChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    before: Any = None
    after: Any = None


class Transition(BaseModel):
    """One entry of a ticket's history: what changed (``changes``; none for an event
    such as an SLA warning), when, by whom, why, and the ticket's version after it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ticket_id: str
    at: datetime
    cause: str
    version: int
    actor: ChangeActor
    reason: str = ""
    changes: list[FieldChange] = Field(default_factory=list)
    event: str | None = None  # e.g. "sla_warning", "sla_breached", "merged", "survey_sent"
    detail: dict[str, Any] = Field(default_factory=dict)


def apply_patch(ticket: Ticket, patch: TicketPatch) -> tuple[Ticket, list[FieldChange]]:
    """The ticket with ``patch`` applied, and what changed (in :data:`WORKFLOW_FIELDS` order)."""
    updates: dict[str, Any] = {}
    for name in patch.model_fields_set & set(WORKFLOW_FIELDS) - {"tags"}:
        value = getattr(patch, name)
        if name in ("status", "priority") and value is None:
            continue  # null status or priority means "leave it"
        updates[name] = value
    tags = list(ticket.tags if patch.tags is None else patch.tags)
    tags = [tag for tag in dict.fromkeys([*tags, *patch.add_tags]) if tag not in set(patch.remove_tags)]
    updates["tags"] = tags[:MAX_TAGS]
    changes = [FieldChange(field=name, before=getattr(ticket, name), after=updates[name])
               for name in WORKFLOW_FIELDS if name in updates and updates[name] != getattr(ticket, name)]
    return ticket.model_copy(update={c.field: c.after for c in changes}), changes


def valid_tags(tags: list[str]) -> list[str]:
    """Tags (tickets', customers', templates') lower-cased, each once, in order;
    ``ValueError`` naming the first that is not 1-64 letters, digits or ``_:./-``."""
    import re

    bad = [tag for tag in tags if not re.fullmatch(TAG_PATTERN, tag)]
    if bad:
        raise ValueError(f"tags are 1-64 letters, digits or _:./- (not {bad[0][:64]!r})")
    return list(dict.fromkeys(tag.lower() for tag in tags))
