"""What one event becomes in Salesforce: the subrequests of one composite call. Pure.

::

    ticket.created   Contact upsert (if new to us) → Case upsert, every field
    message.created  Contact upsert (if new to us) → Case upsert → comment (create or upsert)
    ticket.updated   Contact upsert (if new to us) → Case upsert of the changed Status,
    ticket.assigned    Priority, OwnerId (every field if the Case is new to us)
    ticket.sla_*     Contact upsert (if new to us) → Case upsert → comment (keyed by event id)
    csat.received

Contact and Case are upserted by external id (REST API guide, "Insert or Update
(Upsert) a Record Using an External ID"), so a replay updates them instead of
creating more. The Case names its Contact by the customer id through the
relationship (``"Contact": {field: customer id}``), which needs no record id; the
comment names its Case as ``@{case.id}`` (composite reference chaining).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from switchboard_sdk import ticket_sync
from switchboard_sdk.models import EventEnvelope, Message, Ticket, ticket_ref
from switchboard_sdk.transport import ExternalIds

from .config import SalesforceConfig

CONTACT_LAST_NAME = "Switchboard customer"  # LastName is required; events carry no customer name today
MAX_SUBJECT = 255  # Case.Subject
MAX_COMMENT = 4000  # CaseComment.CommentBody

# external id map kinds (``context.external_ids``), also the subrequests' referenceIds
CONTACT, CASE, COMMENT = "contact", "case", "comment"


@dataclass(frozen=True)
class Plan:
    """Composite subrequests, in order, and what to remember from their results.

    ``remember`` maps a referenceId to the ``(kind, local id)`` its record id is stored under;
    ``ticket``: the ticket whose version is remembered once the plan ran (workflow changes).
    """

    subrequests: list[dict[str, Any]]
    remember: dict[str, tuple[str, str]] = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)  # referenceId → name used in reasons
    ticket: Ticket | None = None

    def body(self) -> bytes:
        """The composite request body; allOrNone: a failed step leaves nothing half-written."""
        return json.dumps({"allOrNone": True, "compositeRequest": self.subrequests}).encode()


def data_path(config: SalesforceConfig, *parts: str) -> str:
    """``/services/data/{version}/…`` with each part percent-encoded."""
    return f"/services/data/{config.api_version}/" + "/".join(quote(part, safe="") for part in parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _upsert(
    config: SalesforceConfig, ref: str, sobject: str, key: str, value: str, body: dict[str, Any]
) -> dict[str, Any]:
    url = data_path(config, "sobjects", sobject, key, value)
    return {"method": "PATCH", "url": url, "referenceId": ref, "body": body}


def _contact(config: SalesforceConfig, customer_id: str) -> dict[str, Any]:
    body = {"LastName": CONTACT_LAST_NAME, "Description": f"Created by Switchboard for customer {customer_id}."}
    return _upsert(config, CONTACT, "Contact", config.contact_external_id_field, customer_id, body)


def _origin(config: SalesforceConfig, channel: str) -> str:
    return config.case_origin_by_channel.get(channel, channel)


def _default_subject(ticket_id: str) -> str:
    return f"Switchboard ticket {ticket_ref(ticket_id)}"


def _case(config: SalesforceConfig, ticket_id: str, customer_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    body = {**fields, "Contact": {config.contact_external_id_field: customer_id}}
    return _upsert(config, CASE, "Case", config.case_external_id_field, ticket_id, body)


def _ticket_fields(config: SalesforceConfig, ticket: Ticket) -> dict[str, Any]:
    fields = {
        "Subject": _cut(ticket.subject or _default_subject(ticket.id), MAX_SUBJECT),
        "Description": f"Opened in Switchboard via {ticket.channel} (ticket {ticket.id}).",
        "Status": config.case_status_by_status[ticket.status],
        "Priority": config.case_priority_by_priority[ticket.priority],
        "Origin": _origin(config, ticket.channel),
    }
    if owner := config.owner_by_agent.get(ticket.assignee_id or ""):
        fields["OwnerId"] = owner
    return fields


def _changed_fields(config: SalesforceConfig, change: ticket_sync.TicketChange) -> dict[str, Any]:
    """The Case fields of what changed; an unmapped agent (or nobody) leaves OwnerId alone."""
    ticket, fields = change.ticket, {}
    if "status" in change.fields:
        fields["Status"] = config.case_status_by_status[ticket.status]
    if "priority" in change.fields:
        fields["Priority"] = config.case_priority_by_priority[ticket.priority]
    if "assignee_id" in change.fields and (owner := config.owner_by_agent.get(ticket.assignee_id or "")):
        fields["OwnerId"] = owner
    return fields


def _message_case_fields(config: SalesforceConfig, message: Message, known: ExternalIds) -> dict[str, Any]:
    # the Case normally came with ticket.created: then only link it, never overwrite its
    # Subject or Origin with this message's; name it only when it may not exist yet
    if known.get(CASE, message.ticket_id) is not None:
        return {}
    subject = message.subject or _default_subject(message.ticket_id)
    return {"Subject": _cut(subject, MAX_SUBJECT), "Origin": _origin(config, message.channel)}


def comment_text(message: Message) -> str:
    """The comment: who wrote on which channel, then the text."""
    who = "Customer" if message.direction == "inbound" else "Reply"
    kind = "" if message.kind == "message" else f" ({message.kind})"
    subject = f" — {message.subject}" if message.subject else ""
    count = len(message.attachments)
    attachments = f" [{count} attachment{'' if count == 1 else 's'} in Switchboard]" if count else ""
    text = message.text.strip() or "(no text)"
    return _cut(f"{who}{kind} via {message.channel}{subject}{attachments}:\n{text}", MAX_COMMENT)


def _comment(config: SalesforceConfig, local_id: str, text: str) -> dict[str, Any]:
    """A comment on ``@{case.id}``; upserted by ``local_id`` (a message or event id) when configured."""
    body = {config.comment_parent_field: "@{case.id}", config.comment_body_field: text}
    if config.comment_external_id_field is not None:
        return _upsert(config, COMMENT, config.comment_object, config.comment_external_id_field, local_id, body)
    url = data_path(config, "sobjects", config.comment_object)
    return {"method": "POST", "url": url, "referenceId": COMMENT, "body": body}


def _with_contact(config: SalesforceConfig, customer_id: str, known: ExternalIds) -> Plan:
    # a Contact we created before is left alone: an upsert would reset a name the agent fixed
    if known.get(CONTACT, customer_id) is not None:
        return Plan([])
    return Plan([_contact(config, customer_id)], {CONTACT: (CONTACT, customer_id)}, {CONTACT: "Contact upsert"})


def plan_ticket(ticket: Ticket, config: SalesforceConfig, known: ExternalIds) -> Plan:
    """``ticket.created``: the Contact, then the Case."""
    plan = _with_contact(config, ticket.customer_id, known)
    case = _case(config, ticket.id, ticket.customer_id, _ticket_fields(config, ticket))
    return Plan(
        [*plan.subrequests, case],
        {**plan.remember, CASE: (CASE, ticket.id)},
        {**plan.steps, CASE: "Case upsert"},
    )


def plan_message(message: Message, config: SalesforceConfig, known: ExternalIds) -> Plan | None:
    """``message.created``: the Contact, the Case, the comment; ``None`` if the comment exists."""
    if known.get(COMMENT, message.id) is not None:
        return None  # delivered before: CaseComment has no external id to upsert on
    plan = _with_contact(config, message.customer_id, known)
    case = _case(config, message.ticket_id, message.customer_id, _message_case_fields(config, message, known))
    return Plan(
        [*plan.subrequests, case, _comment(config, message.id, comment_text(message))],
        {**plan.remember, CASE: (CASE, message.ticket_id), COMMENT: (COMMENT, message.id)},
        {**plan.steps, CASE: "Case upsert", COMMENT: f"{config.comment_object} {_verb(config)}"},
    )


def plan_change(change: ticket_sync.TicketChange, config: SalesforceConfig, known: ExternalIds) -> Plan | None:
    """``ticket.updated`` / ``ticket.assigned``: the Case's changed fields; ``None`` when none
    is kept in Salesforce or a newer version of the ticket was written already."""
    ticket = change.ticket
    fields = _changed_fields(config, change)
    if not fields or ticket_sync.is_stale(known, change):
        return None
    if known.get(CASE, ticket.id) is None:  # never filed (or the mapping was lost): the whole ticket
        fields = _ticket_fields(config, ticket) | fields
    plan = _with_contact(config, ticket.customer_id, known)
    return Plan(
        [*plan.subrequests, _case(config, ticket.id, ticket.customer_id, fields)],
        {**plan.remember, CASE: (CASE, ticket.id)},
        {**plan.steps, CASE: "Case upsert"},
        ticket,
    )


def plan_note(event: EventEnvelope, config: SalesforceConfig, known: ExternalIds) -> Plan | None:
    """An SLA or CSAT event: a comment on the Case (filed first if new to us); ``None`` if it exists."""
    if known.get(COMMENT, event.id) is not None:
        return None
    lines, ticket = ticket_sync.note_lines(event), ticket_sync.note_ticket(event)
    fields = {} if known.get(CASE, ticket.id) is not None else _ticket_fields(config, ticket)
    plan = _with_contact(config, ticket.customer_id, known)
    comment = _comment(config, event.id, _cut("\n".join(lines), MAX_COMMENT))
    return Plan(
        [*plan.subrequests, _case(config, ticket.id, ticket.customer_id, fields), comment],
        {**plan.remember, CASE: (CASE, ticket.id), COMMENT: (COMMENT, event.id)},
        {**plan.steps, CASE: "Case upsert", COMMENT: f"{config.comment_object} {_verb(config)}"},
    )


def _verb(config: SalesforceConfig) -> str:
    return "upsert" if config.comments_upserted else "create"


def plan(event: EventEnvelope, config: SalesforceConfig, known: ExternalIds) -> Plan | None:
    """The plan for any event; raises ``KeyError`` / ``ValidationError`` for malformed data."""
    if event.type == "ticket.created":
        return plan_ticket(Ticket.model_validate(event.data["ticket"]), config, known)
    if event.type == "message.created":
        return plan_message(Message.model_validate(event.data["message"]), config, known)
    if event.type in ("ticket.updated", "ticket.assigned"):
        return plan_change(ticket_sync.TicketChange.of(event), config, known)
    if event.type in ("ticket.sla_warning", "ticket.sla_breached", "csat.received"):
        return plan_note(event, config, known)
    return None  # message.sent, message.failed: the reply's comment was posted with its message.created
