"""The OpenAPI pieces of the console's API (issue 13): the ticket list's filters,
the signed-in agent's preferences and the changes poll. Kept beside :mod:`.openapi`,
which lists them with the rest."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .agents import Preferences, PreferencesUpdate
from .openapi_types import Operation, Query
from .openapi_workflow import TicketView
from .ticket_params import MAX_IDS, PRIORITIES, SLA_STATES, STATUSES

ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,100}$"}
TICKET_FILTERS = (
    Query("status", {"type": "string", "enum": list(STATUSES)}),
    Query("assignee", ID, "`me`, `none` (nobody's) or an agent's id."),
    Query("group", ID, "`mine` (the signed-in agent's groups) or a group's id."),
    Query("stage", {"type": "string", "enum": ["accept", "triage", "handle", "resolve", "follow_up"]},
          "受理 accept (new), 分诊 triage (open, nobody's), 处理 handle (open and assigned, pending, on hold), "
          "反馈 resolve (solved), 回访 follow_up (closed)."),
    Query("sla", {"type": "string", "enum": list(SLA_STATES)},
          "A running SLA target past due (`breached`), or past its warning time and not yet due (`at_risk`)."),
    Query("priority", {"type": "string", "enum": list(PRIORITIES)}),
    Query("channel", {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,63}$"}),
    Query("tag", {"type": "string", "pattern": r"^[\w][\w:./-]{0,63}$"}),
    Query("ids", {"type": "string", "maxLength": MAX_IDS * 101, "pattern": r"^[A-Za-z0-9_,-]+$"},
          f"Only these tickets: up to {MAX_IDS} ids, separated by commas (no cursor: one page)."),
)


class ChangesPage(BaseModel):
    cursor: str = Field(description="Pass it back as `cursor` (and, quoted, as `If-None-Match`) on the next poll.")
    tickets: list[TicketView] = Field(description="Changed after the cursor, oldest change first (at most 100).")
    more: bool = Field(description="More changes wait: poll again at once with the new cursor.")


CONSOLE_OPERATIONS: tuple[Operation, ...] = (
    Operation("put", "/v1/me/preferences", "set_preferences", "Save the signed-in agent's language and inbox views",
              "agents", Preferences, body=PreferencesUpdate, scopes=("agent",), session=True,
              errors=(401, 403, 422, 429)),
    Operation("get", "/v1/changes", "list_changes", "Tickets changed since a cursor (the console's poll)", "tickets",
              ChangesPage, query=(Query("cursor", {"type": "string", "pattern": r"^[0-9]{1,15}$"},
                                        "`cursor` of the previous answer; none: the current cursor and no tickets."),),
              etag=True),
)
