"""What one event becomes in Salesforce: the subrequests of one composite call. Pure.

::

    ticket.created   Contact upsert (if new to us) → Case upsert, every field
    message.created  Contact upsert (if new to us) → Case upsert → comment (create or upsert)

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

    ``remember`` maps a referenceId to the ``(kind, local id)`` its record id is stored under.
    """

    subrequests: list[dict[str, Any]]
    remember: dict[str, tuple[str, str]] = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)  # referenceId → name used in reasons

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
    return {
        "Subject": _cut(ticket.subject or _default_subject(ticket.id), MAX_SUBJECT),
        "Description": f"Opened in Switchboard via {ticket.channel} (ticket {ticket.id}).",
        "Status": config.case_status_by_status[ticket.status],
        "Origin": _origin(config, ticket.channel),
    }


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


def _comment(config: SalesforceConfig, message: Message) -> dict[str, Any]:
    body = {config.comment_parent_field: "@{case.id}", config.comment_body_field: comment_text(message)}
    if config.comment_external_id_field is not None:
        return _upsert(config, COMMENT, config.comment_object, config.comment_external_id_field, message.id, body)
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
        [*plan.subrequests, case, _comment(config, message)],
        {**plan.remember, CASE: (CASE, message.ticket_id), COMMENT: (COMMENT, message.id)},
        {**plan.steps, CASE: "Case upsert", COMMENT: f"{config.comment_object} {_verb(config)}"},
    )


def _verb(config: SalesforceConfig) -> str:
    return "upsert" if config.comments_upserted else "create"


def plan(event: EventEnvelope, config: SalesforceConfig, known: ExternalIds) -> Plan | None:
    """The plan for any event; raises ``KeyError`` / ``ValidationError`` for malformed data."""
    if event.type == "ticket.created":
        return plan_ticket(Ticket.model_validate(event.data["ticket"]), config, known)
    if event.type != "message.created":
        return None  # message.failed: the reply's comment was posted with its message.created
    return plan_message(Message.model_validate(event.data["message"]), config, known)
