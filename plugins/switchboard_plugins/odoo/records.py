"""What the connector creates in Odoo, idempotently. ::

    ticket.created   res.partner (found or created) → helpdesk.ticket | crm.lead (found or created)
    message.created  the same record (created if missing) → message_post: a note in its chatter

Created ids are remembered in ``context.external_ids`` (``partner``, ``record``,
``message``), so a replay makes no call at all. When a mapping was lost, lookups
by reference find what an earlier attempt created instead of duplicating it::

    res.partner         ref = "[switchboard:<customer id>]", then email, then phone
    ticket / lead       reference_field = ticket id, or description contains "[switchboard:<ticket id>]"
    chatter note        mail.message body contains "[switchboard:<message id>]" (or event id)

Workflow events (:mod:`.updates`): ``write`` of ``stage_id`` / ``priority`` / ``user_id`` on
the record, and chatter notes of SLA and CSAT events (``note``, keyed by event id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard_sdk.errors import OutcomeReached
from switchboard_sdk.models import Customer, DeliveryOutcome, Message, Ticket, ticket_ref
from switchboard_sdk.transport import ExternalIds

from .client import MODELS, Rpc
from .config import OdooConfig

HELPDESK, CRM = "helpdesk.ticket", "crm.lead"
STAGE_MODELS = {HELPDESK: "helpdesk.stage", CRM: "crm.stage"}
NOTE = {"message_type": "comment", "subtype_xmlid": "mail.mt_note"}  # internal note: no mail to followers
DEFAULT_PARTNER_NAME = "Switchboard customer"
MAX_TITLE = 120
INCLUDE_ARCHIVED = {"active_test": False}  # a lost lead is archived, and must still be found



def marker(local_id: str) -> str:
    """The tag naming a Switchboard id in Odoo text fields (bracketed: ``ilike`` is a substring match)."""
    return f"[switchboard:{local_id}]"


def an_id(value: Any) -> int | None:
    """A record id from ``create``/``message_post`` answers: ``7``, ``[7]`` or ``{"id": 7}``."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def first_id(rows: Any) -> int | None:
    """The id of the first ``search_read`` row, if any."""
    return an_id(rows[0]) if isinstance(rows, list) and rows else None


def parse_record(value: str | None) -> tuple[str, int] | None:
    """``"helpdesk.ticket:42"`` → ``("helpdesk.ticket", 42)``; anything else → ``None``."""
    model, _, number = (value or "").rpartition(":")
    return (model, int(number)) if model in (HELPDESK, CRM) and number.isdigit() else None


def identity(customer: Customer | None, kind: str) -> str | None:
    return next((i.value for i in customer.identities if i.kind == kind), None) if customer else None


def partner_domains(customer_id: str, customer: Customer | None) -> list[list[list[Any]]]:
    """Partner searches, strongest first: our own ref, then email, then phone."""
    domains: list[list[list[Any]]] = [[["ref", "=", marker(customer_id)]]]
    if email := identity(customer, "email"):
        domains.append([["email", "=ilike", email]])
    if phone := identity(customer, "phone"):
        domains.append([["phone", "=", phone]])
    return domains


@dataclass(frozen=True)
class TicketFacts:
    """What a record needs, from a ticket or (when the ticket event was lost) a message."""

    id: str
    customer_id: str
    title: str
    channel: str
    customer: Customer | None

    @classmethod
    def of_ticket(cls, ticket: Ticket, customer: Customer | None) -> TicketFacts:
        title = ticket.subject.strip() or _default_title(ticket.id)
        return cls(ticket.id, ticket.customer_id, title[:MAX_TITLE], ticket.channel, customer)

    @classmethod
    def of_message(cls, message: Message, customer: Customer | None) -> TicketFacts:
        first_line = (message.subject or message.text).strip().split("\n", 1)[0]
        title = first_line or _default_title(message.ticket_id)
        return cls(message.ticket_id, message.customer_id, title[:MAX_TITLE], message.channel, customer)


def _default_title(ticket_id: str) -> str:
    return f"Switchboard ticket {ticket_ref(ticket_id)}"


def note_body(message: Message) -> str:
    """The chatter note: who wrote on which channel, the text, and the replay marker."""
    who = "Customer" if message.direction == "inbound" else "Agent"
    kind = "" if message.kind == "message" else f" ({message.kind})"
    lines = [f"{who} via {message.channel}{kind}:"]
    if message.subject:
        lines.append(f"Subject: {message.subject}")
    lines.append(message.text or "(no text)")
    if message.attachments:
        lines.append(f"{len(message.attachments)} attachment(s) kept in Switchboard")
    lines.append(marker(message.id))
    return "\n".join(lines)


@dataclass
class Odoo:
    """One delivery's view of the tenant's Odoo."""

    rpc: Rpc
    config: OdooConfig
    ids: ExternalIds

    # -- partner --------------------------------------------------------------------

    def partner(self, customer_id: str, customer: Customer | None) -> int:
        known = parse_int(self.ids.get("partner", customer_id))
        if known is None:
            known = self._find_partner(customer_id, customer) or self._create_partner(customer_id, customer)
            self.ids.put("partner", customer_id, str(known))
        return known

    def _find_partner(self, customer_id: str, customer: Customer | None) -> int | None:
        for domain in partner_domains(customer_id, customer):
            rows = self.rpc.call("res.partner", "search_read", {"domain": domain, "fields": ["id"], "limit": 1})
            if found := first_id(rows):
                return found
        return None

    def _create_partner(self, customer_id: str, customer: Customer | None) -> int:
        name = (customer.display_name if customer else None) or DEFAULT_PARTNER_NAME
        vals: dict[str, Any] = {"name": name, "ref": marker(customer_id)}
        for kind in ("email", "phone"):
            if value := identity(customer, kind):
                vals[kind] = value
        return self._create("res.partner", vals)

    # -- ticket or lead -----------------------------------------------------------------

    def target_model(self) -> str:
        """``helpdesk.ticket`` when the Helpdesk app is installed, else ``crm.lead`` (cached)."""
        if self.config.target_model != "auto":
            return self.config.target_model
        key = (self.config.base_url, self.config.database or "")
        if key not in MODELS:
            MODELS[key] = self._probe_model()
        return MODELS[key]

    def _probe_model(self) -> str:
        # ir.model, not fields_get: one call answers for both apps, and any user may read it
        domain = [["model", "in", [HELPDESK, CRM]]]
        rows = self.rpc.call("ir.model", "search_read", {"domain": domain, "fields": ["model"]})
        installed = {row.get("model") for row in rows if isinstance(row, dict)} if isinstance(rows, list) else set()
        for model in (HELPDESK, CRM):
            if model in installed:
                return model
        missing = "neither Helpdesk (helpdesk.ticket) nor CRM (crm.lead) is installed"
        raise OutcomeReached(DeliveryOutcome.failed(missing))

    def record(self, ticket: TicketFacts) -> tuple[str, int]:
        """The ticket's helpdesk ticket or lead, found or created."""
        known = parse_record(self.ids.get("record", ticket.id))
        if known is not None:
            return known
        # the partner first: it is a core model, so client.AutoRpc may read a 404 as "no JSON-2"
        partner_id = self.partner(ticket.customer_id, ticket.customer)
        model = self.target_model()
        record_id = self._find_record(model, ticket.id)
        if record_id is None:
            record_id = self._create(model, self._record_vals(model, ticket, partner_id))
        self.ids.put("record", ticket.id, f"{model}:{record_id}")
        return model, record_id

    def _find_record(self, model: str, ticket_id: str) -> int | None:
        field = self.config.reference_field
        domain = [[field, "=", ticket_id]] if field else [["description", "ilike", marker(ticket_id)]]
        params = {"domain": domain, "fields": ["id"], "limit": 1, "context": INCLUDE_ARCHIVED}
        return first_id(self.rpc.call(model, "search_read", params))

    def _record_vals(self, model: str, ticket: TicketFacts, partner_id: int) -> dict[str, Any]:
        description = f"Opened from Switchboard ({ticket.channel}). {marker(ticket.id)}"
        vals: dict[str, Any] = {"name": ticket.title, "description": description, "partner_id": partner_id}
        if model == CRM:
            vals["type"] = self.config.crm_lead_type
        if self.config.reference_field:
            vals[self.config.reference_field] = ticket.id
        return vals

    # -- chatter ----------------------------------------------------------------------------

    def post(self, message: Message, customer: Customer | None) -> None:
        """A note in the record's chatter, once per message."""
        if self.ids.get("message", message.id) is not None:
            return
        model, record_id = self.record(TicketFacts.of_message(message, customer))
        self._post_once("message", message.id, model, record_id, note_body(message))

    def note(self, event_id: str, lines: list[str], ticket: TicketFacts) -> None:
        """A note of a workflow event (SLA, CSAT) in the record's chatter, once per event."""
        if self.ids.get("note", event_id) is not None:
            return
        model, record_id = self.record(ticket)
        self._post_once("note", event_id, model, record_id, "\n".join([*lines, marker(event_id)]))

    def _post_once(self, kind: str, local_id: str, model: str, record_id: int, body: str) -> None:
        posted = self._find_note(model, record_id, local_id)
        if posted is None:
            posted = an_id(self.rpc.call(model, "message_post", {"body": body, **NOTE}, ids=[record_id]))
        self.ids.put(kind, local_id, str(posted or f"{model}:{record_id}"))

    # -- workflow fields ----------------------------------------------------------------------

    def write(self, model: str, record_id: int, vals: dict[str, Any]) -> None:
        self.rpc.call(model, "write", {"vals": vals}, ids=[record_id])

    def stage_id(self, model: str, name: str) -> int:
        """The id of the stage named ``name`` (looked up each time: stages are renamed and deleted)."""
        stage_model = STAGE_MODELS[model]
        params = {"domain": [["name", "=", name]], "fields": ["id"], "limit": 1}
        found = first_id(self.rpc.call(stage_model, "search_read", params))
        if found is None:
            missing = f"Odoo has no {stage_model} named {name!r}; set the stage names in the connector's config"
            raise OutcomeReached(DeliveryOutcome.failed(missing))
        return found

    def _find_note(self, model: str, record_id: int, local_id: str) -> int | None:
        domain = [["model", "=", model], ["res_id", "=", record_id], ["body", "ilike", marker(local_id)]]
        return first_id(self.rpc.call("mail.message", "search_read", {"domain": domain, "fields": ["id"], "limit": 1}))

    def _create(self, model: str, vals: dict[str, Any]) -> int:
        record_id = an_id(self.rpc.call(model, "create", {"vals_list": [vals]}))
        if record_id is None:
            raise OutcomeReached(DeliveryOutcome.failed(f"Odoo answered {model}.create without a record id"))
        return record_id


def parse_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
