"""The ticket list's filters as query parameters (``GET /v1/tickets``) and as an
agent's saved views (``PUT /v1/me/preferences``): one check for both.

:func:`parse_filters` checks each value on its own (400 ``bad_request`` naming the
parameter and what it takes); :func:`resolve` then makes them the store's
:class:`~chalicelib.storage.ticket_filters.TicketFilter` for a caller: ``assignee=me``
and ``group=mine`` name the signed-in agent, and a named agent or group must exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from switchboard_sdk import BadPayload

from ..storage.ticket_filters import STAGE_STATUSES, TicketFilter
from ..workflow.changes import TAG_PATTERN
from .access import Caller

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed", "merged")
PRIORITIES = ("urgent", "high", "normal", "low")
SLA_STATES = ("at_risk", "breached")
MAX_IDS = 100
ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FILTER_PARAMS = ("status", "assignee", "group", "stage", "sla", "priority", "channel", "tag", "ids")


@dataclass(frozen=True)
class ListParams:
    """The filters as asked (``assignee``: ``me``, ``none`` or an agent id; ``group``: ``mine`` or a group id)."""

    status: str | None = None
    assignee: str | None = None
    group: str | None = None
    stage: str | None = None
    sla: str | None = None
    priority: str | None = None
    channel: str | None = None
    tag: str | None = None
    ids: tuple[str, ...] = ()


def parse_filters(params: dict[str, str]) -> ListParams:
    """The filters among ``params`` (other names are left to the caller), each checked."""
    values = {name: params[name] for name in FILTER_PARAMS if name in params}
    for name, allowed in (("status", STATUSES), ("stage", tuple(STAGE_STATUSES)), ("sla", SLA_STATES),
                          ("priority", PRIORITIES)):
        if name in values and values[name] not in allowed:
            raise BadPayload(f"{name} must be one of {', '.join(allowed)}")
    _check(values, "assignee", ID_PATTERN, "me, none or an agent id")
    _check(values, "group", ID_PATTERN, "mine or a group id")
    _check(values, "channel", CHANNEL_PATTERN, "a channel name (web, wechat, email, ...)")
    _check(values, "tag", TAG_PATTERN, "a tag: 1-64 letters, digits or _:./-")
    ids = tuple(dict.fromkeys(values.pop("ids").split(","))) if "ids" in values else ()
    if "ids" in params and not (0 < len(ids) <= MAX_IDS and all(re.fullmatch(ID_PATTERN, i) for i in ids)):
        raise BadPayload(f"ids must be 1 to {MAX_IDS} ticket ids, separated by commas")
    if "tag" in values:
        values["tag"] = values["tag"].lower()  # tags are kept lower-cased
    return ListParams(**values, ids=ids)


def resolve(asked: ListParams, caller: Caller, known: Callable[[str, str], bool]) -> TicketFilter:
    """The store's filter for ``caller``; ``known(kind, id)`` says whether an agent or group exists."""
    agent = caller.agent
    assignee = {"none": "", "me": agent.id if agent else None}.get(asked.assignee or "", asked.assignee)
    if asked.assignee == "me" and agent is None:
        raise BadPayload("assignee=me is for signed-in agents; name the agent's id")
    groups = None if asked.group is None else frozenset([asked.group])
    if asked.group == "mine":
        if agent is None:
            raise BadPayload("group=mine is for signed-in agents; name the group's id")
        groups = frozenset(agent.group_ids)
    elif asked.group is not None and not known("group", asked.group):
        raise BadPayload(f"group: no such group {asked.group!r}")
    if asked.assignee not in (None, "me", "none") and not known("agent", asked.assignee or ""):
        raise BadPayload(f"assignee: no such agent {asked.assignee!r}")
    return TicketFilter(status=asked.status, stage=asked.stage, assignee=assignee, groups=groups,
                        priority=asked.priority, channel=asked.channel, tag=asked.tag,
                        sla=asked.sla,  # type: ignore[arg-type]  # checked against SLA_STATES
                        ids=asked.ids)


def _check(values: dict[str, str], name: str, pattern: str, takes: str) -> None:
    if name in values and not re.fullmatch(pattern, values[name]):
        raise BadPayload(f"{name} must be {takes}")
