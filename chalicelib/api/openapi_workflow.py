"""The OpenAPI operations of the service workflow (issue 12): ticket changes, bulk,
merge and history. Kept beside :mod:`.openapi`, which lists them with the rest."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from switchboard_sdk import Message, Stage, Ticket

from ..workflow.changes import ChangeActor, FieldChange
from .macros import ApplyMacro
from .openapi_types import Operation
from .workflow import BulkUpdate, MergeRequest, TicketUpdate

WORK = ("tenant-admin", "agent")


class TicketView(Ticket):
    stage: Stage | None = Field(default=None, description="受理 accept, 分诊 triage, 处理 handle, 反馈 resolve, "
                                                          "回访 follow_up (none once merged).")


class TicketChanged(BaseModel):
    ticket: TicketView
    changes: list[FieldChange]


class BulkItem(BaseModel):
    id: str
    result: Literal["updated", "unchanged", "error"]
    version: int | None = None
    error: dict[str, str] | None = None


class BulkResults(BaseModel):
    results: list[BulkItem]


class MergeResult(BaseModel):
    ticket: TicketView
    merged: str
    moved: int = Field(description="Messages moved by this call.")
    complete: bool = Field(description="False: more messages are left; ask again to finish the merge.")


class HistoryEntryView(BaseModel):
    ticket_id: str
    at: str
    cause: str
    version: int
    actor: ChangeActor
    reason: str = ""
    changes: list[FieldChange]
    event: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    stages: dict[str, Stage | None] | None = None


class HistoryPage(BaseModel):
    history: list[HistoryEntryView]


class MacroApplied(BaseModel):
    ticket: TicketView
    changes: list[FieldChange]
    reply: Message | None
    note: Message | None


TICKET_ERRORS = (400, 401, 403, 404, 409, 422, 429)
WORKFLOW_OPERATIONS: tuple[Operation, ...] = (
    Operation("patch", "/v1/tickets/{ticket_id}", "update_ticket",
              "Change status, priority, assignee, group, tags, category or language", "tickets", TicketChanged,
              body=TicketUpdate, scopes=WORK, errors=TICKET_ERRORS),
    Operation("post", "/v1/tickets/bulk", "bulk_update_tickets", "The same change on up to 100 tickets", "tickets",
              BulkResults, body=BulkUpdate, scopes=WORK, errors=(400, 401, 403, 422, 429)),
    Operation("post", "/v1/tickets/{ticket_id}/merge", "merge_ticket",
              "Merge this ticket into another: its messages move, it becomes merged", "tickets", MergeResult,
              body=MergeRequest, scopes=WORK, errors=TICKET_ERRORS),
    Operation("post", "/v1/tickets/{ticket_id}/macros/{macro_id}", "apply_macro",
              "Apply a macro: its changes, its reply and its note at once", "tickets", MacroApplied,
              body=ApplyMacro, scopes=WORK, errors=TICKET_ERRORS),
    Operation("get", "/v1/tickets/{ticket_id}/history", "ticket_history",
              "Every change of the ticket: when, who, why, what", "tickets", HistoryPage,
              errors=(401, 403, 404, 429)),
)
