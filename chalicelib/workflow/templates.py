"""Reply templates (话术库) and macros: what they are, and how a template becomes text.

A :class:`ReplyTemplate` has a short ``code`` agents type, a title, and one text per
language. Texts name variables as ``{{customer.name}}`` or, with a fallback the
author chose, ``{{customer.name | default: "there"}}``. Rendering is deliberately
dumb: a fixed grammar of dotted names looked up in a flat ``dict[str, str]`` built
from the ticket, its customer and the agent (:func:`variables_for`) — no code runs,
no attribute of any Python object is reached, and a value is inserted as it is (a
customer called ``{{agent.name}}`` stays that). A variable with no value (absent or
blank) and no default is an error listing every such name
(:class:`MissingVariables`, 422), never a blank in a message to a customer.
Unknown variables and malformed braces are refused when a template is saved.

A :class:`Macro` applies several actions at once: a :class:`TicketPatch`, a
template reply and an internal note; :func:`macro_plan` works out what one would
do to a ticket (the workflow service applies it). CSV import/export is in
:mod:`.template_csv`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator
from switchboard_sdk import Conflict, Customer, InvalidInput, Ticket, ticket_ref

from .changes import TicketPatch, valid_tags

CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,39}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
MAX_TEXT_CHARS = 4_000  # a standard reply; keeps a template and its audit record far below 400 KB
MAX_LANGUAGES = 8
MAX_TEMPLATE_TAGS = 20
MAX_DEFAULT_CHARS = 200
RESERVED_CODES = frozenset({"import", "export"})  # /v1/templates/import and /export are routes of their own
ME = "@me"  # a macro's assignee_id: the agent who applies it
# the variables a template may name; plus customer.attributes.<key>
KNOWN_VARIABLES = (
    "customer.name", "customer.id", "customer.email", "customer.phone",
    "ticket.ref", "ticket.id", "ticket.subject", "ticket.status", "ticket.priority", "ticket.category",
    "ticket.channel", "ticket.language", "agent.name",
)
ATTRIBUTES = "customer.attributes."
_ATTRIBUTE_KEY = re.compile(r"[^\W_][\w-]{0,63}")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_BODY = re.compile(r"""\s*(?P<name>[^\s|{}]+)\s*(?:\|\s*default\s*:\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'))?\s*""")


class MissingVariables(InvalidInput):
    """The text names variables this ticket has no value for (and no default): 422,
    one ``fields`` entry per name, so the agent sees what to fill in."""

    code = "missing_variables"

    def __init__(self, names: Sequence[str]) -> None:
        self.missing = list(dict.fromkeys(names))
        super().__init__(f"no value for {', '.join(self.missing)}: fill them in or write the reply yourself",
                         [{"field": name, "message": "no value for this ticket"} for name in self.missing])


@dataclass(frozen=True)
class Placeholder:
    name: str
    default: str | None
    start: int
    end: int


def placeholders(text: str) -> list[Placeholder]:
    """The variables of ``text`` in order; :class:`ValueError` for a malformed or
    unknown one (said when a template is saved, not when an agent uses it)."""
    found: list[Placeholder] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        _no_stray_braces(text[position:match.start()])
        body = _BODY.fullmatch(match.group(1))
        if body is None:
            raise ValueError(f"malformed variable {_shown(match.group(0))}: write {{{{name}}}} or "
                             '{{name | default: "text"}}')
        name = body.group("name")
        if not known_variable(name):
            raise ValueError(f"unknown variable {{{{{_shown(name)}}}}}: use one of {', '.join(KNOWN_VARIABLES)} "
                             f"or {ATTRIBUTES}<key>")
        default = body.group("dq") if body.group("dq") is not None else body.group("sq")
        if default is not None and len(default) > MAX_DEFAULT_CHARS:
            raise ValueError(f"a default is at most {MAX_DEFAULT_CHARS} characters")
        found.append(Placeholder(name, default, match.start(), match.end()))
        position = match.end()
    _no_stray_braces(text[position:])
    return found


def _no_stray_braces(between: str) -> None:
    if "{{" in between:
        raise ValueError("a '{{' without its closing '}}'")


def _shown(fragment: str) -> str:
    return fragment if len(fragment) <= 60 else fragment[:57] + "..."


def known_variable(name: str) -> bool:
    if name in KNOWN_VARIABLES:
        return True
    return name.startswith(ATTRIBUTES) and bool(_ATTRIBUTE_KEY.fullmatch(name.removeprefix(ATTRIBUTES)))


def check_text(text: str) -> str:
    """``text`` when it is a usable template text, else :class:`ValueError`."""
    if not text.strip():
        raise ValueError("a text must say something")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"a text is at most {MAX_TEXT_CHARS} characters")
    placeholders(text)
    return text


def check_tags(tags: list[str]) -> list[str]:
    return valid_tags(tags)


# -- templates ---------------------------------------------------------------------


class TemplateDraft(BaseModel):
    """A template as an admin writes it (a request body, a CSV file's rows)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, description="What agents type, e.g. `refund.ok`.")
    title: str = Field(min_length=1, max_length=200)
    texts: dict[str, str] = Field(min_length=1, max_length=MAX_LANGUAGES,
                                  description="Text per language (`en`, `zh-CN`, …); variables as {{customer.name}}.")
    tags: list[str] = Field(default_factory=list, max_length=MAX_TEMPLATE_TAGS)

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_CODES:
            raise ValueError(f"{value} names a route (/v1/templates/{value}); choose another code")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a title must say something")
        return value.strip()

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for language, text in value.items():
            if len(language) > 35 or not re.fullmatch(LANGUAGE_PATTERN, language):
                raise ValueError(f"{_shown(language)!r} is not a language tag such as en or zh-CN")
            if language.lower() in seen:
                raise ValueError(f"{language} twice")
            seen.add(language.lower())
            try:
                check_text(text)
            except ValueError as err:
                raise ValueError(f"{language}: {err}") from None
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return check_tags(value)

    def draft(self) -> TemplateDraft:
        return TemplateDraft.model_validate(self.model_dump(include=set(TemplateDraft.model_fields)))


class ReplyTemplate(TemplateDraft):
    """A stored template: ``version`` grows with every change (an update names the one it read)."""

    version: int = Field(ge=1)
    updated_at: str
    updated_by: str


def pick_language(available: Sequence[str], wanted: str | None, default: str | None = None) -> str:
    """Which of ``available`` to use for ``wanted`` (zh-CN): itself, its base (zh), a
    sibling (zh-TW), then the same for the tenant's ``default``, then the first."""
    lowered = {language.lower(): language for language in available}
    for choice in (wanted, default):
        if not choice:
            continue
        base = choice.lower().split("-")[0]
        for candidate in (choice.lower(), base):
            if candidate in lowered:
                return lowered[candidate]
        sibling = next((lang for low, lang in lowered.items() if low.split("-")[0] == base), None)
        if sibling is not None:
            return sibling
    return available[0]


def render(template: TemplateDraft, language: str | None, variables: Mapping[str, str], *,
           default_language: str | None = None) -> str:
    """The template's text in ``language`` (see :func:`pick_language`) with its variables filled."""
    return render_text(template.texts[pick_language(list(template.texts), language, default_language)], variables)


def render_text(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with each variable replaced by its value, once (values are never read
    as templates); :class:`MissingVariables` names every variable without a value."""
    try:
        found = placeholders(text)
    except ValueError as err:
        raise InvalidInput(f"this template cannot be used: {err}") from None
    parts: list[str] = []
    missing: list[str] = []
    position = 0
    for placeholder in found:
        value = variables.get(placeholder.name, "")
        if not value.strip():
            if placeholder.default is None:
                missing.append(placeholder.name)
            value = placeholder.default or ""
        parts += [text[position:placeholder.start], value]
        position = placeholder.end
    if missing:
        raise MissingVariables(missing)
    return "".join(parts) + text[position:]


def variables_for(ticket: Ticket, customer: Customer | None, agent_name: str | None) -> dict[str, str]:
    """The values a template may use for ``ticket``: flat, strings only, empty when unknown."""
    values = {
        "ticket.id": ticket.id, "ticket.ref": ticket_ref(ticket.id), "ticket.subject": ticket.subject,
        "ticket.status": ticket.status, "ticket.priority": ticket.priority, "ticket.category": ticket.category or "",
        "ticket.channel": ticket.channel, "ticket.language": ticket.language or "", "agent.name": agent_name or "",
    }
    if customer is not None:
        by_kind = {i.kind: i.value for i in reversed(customer.identities)}  # the first of each kind
        values |= {"customer.id": customer.id, "customer.name": customer.display_name or "",
                   "customer.email": by_kind.get("email", ""), "customer.phone": by_kind.get("phone", "")}
        values |= {ATTRIBUTES + key: str(value) for key, value in customer.attributes.items()}
    return values


# -- macros ------------------------------------------------------------------------


class MacroActions(BaseModel):
    """What a macro does: change the ticket (``patch``; ``assignee_id: "@me"`` assigns
    it to whoever applies the macro), reply with a template, add an internal note
    (variables allowed, as in a template)."""

    model_config = ConfigDict(extra="forbid")
    patch: TicketPatch = Field(default_factory=TicketPatch)
    reply_template: str | None = Field(default=None, pattern=CODE_PATTERN)
    note: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return None if value is None else check_text(value)

    @model_validator(mode="after")
    def _does_something(self) -> MacroActions:
        if self.patch.is_empty() and self.reply_template is None and self.note is None:
            raise ValueError("a macro must change the ticket, reply or add a note")
        return self

    @field_serializer("patch")
    def _only_what_it_sets(self, patch: TicketPatch) -> dict[str, Any]:
        # a field left out stays as it is; a field set to null clears it: keep them apart when stored
        return patch.model_dump(mode="json", exclude_unset=True)


class MacroDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    actions: MacroActions


class Macro(MacroDraft):
    id: str = Field(pattern=r"^mac_[a-z0-9]{8,32}$")
    version: int = Field(ge=1)
    updated_at: str
    updated_by: str


@dataclass(frozen=True)
class MacroPlan:
    """What applying a macro does: the patch to apply, the reply to send, the note to add."""

    patch: TicketPatch
    reply_text: str | None
    note: str | None
    reply_language: str | None = None


def macro_plan(macro: Macro, template: TemplateDraft | None, ticket: Ticket, customer: Customer | None,
               agent_name: str | None, language: str | None, *, agent_id: str | None = None,
               default_language: str | None = None) -> MacroPlan:
    """What ``macro`` would do to ``ticket`` when ``agent_name`` applies it; ``template``:
    the macro's reply template as stored now. :class:`MissingVariables` lists every
    variable the reply and the note lack, together; :class:`Conflict` when the reply
    template is gone; nothing is changed here."""
    actions = macro.actions
    if actions.reply_template is not None and (template is None or template.code != actions.reply_template):
        raise Conflict(f"the macro's reply template {actions.reply_template} no longer exists")
    variables = variables_for(ticket, customer, agent_name)
    wanted = language or ticket.language
    reply_language = None if template is None else pick_language(list(template.texts), wanted, default_language)
    texts = {"reply": None if template is None or reply_language is None else template.texts[reply_language],
             "note": actions.note}
    rendered: dict[str, str | None] = {}
    missing: list[str] = []
    for part, text in texts.items():
        try:
            rendered[part] = None if text is None else render_text(text, variables)
        except MissingVariables as err:
            missing += err.missing
    if missing:
        raise MissingVariables(missing)
    return MacroPlan(_patch_for(actions.patch, agent_id), rendered["reply"], rendered["note"], reply_language)


def _patch_for(patch: TicketPatch, agent_id: str | None) -> TicketPatch:
    if patch.assignee_id != ME:
        return patch
    if agent_id is None:
        raise InvalidInput("this macro assigns the ticket to whoever applies it: an agent must apply it",
                           [{"field": "actions.patch.assignee_id", "message": "needs a signed-in agent"}])
    return TicketPatch.model_validate(patch.model_dump(exclude_unset=True) | {"assignee_id": agent_id})
