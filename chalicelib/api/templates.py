"""Reply templates (话术库) and macros: ``/v1/templates``, ``/v1/macros``.

Any reading caller lists, reads and renders them; tenant admins and supervisors
change them, and every change is in the tenant's audit log, written with it.
Updates and deletes name the ``version`` they read (a stale one is 409).

``POST /v1/templates/{code}/render`` fills a template in for one ticket and the
calling agent; a variable the ticket has no value for is a 422 naming it, never a
blank. ``POST /v1/templates/import`` takes a CSV file (``text/csv``, or JSON
``{"csv": "..."}``): the whole file is checked first and a bad one writes nothing;
``?mode=replace`` also deletes the templates the file leaves out (refused while a
macro uses one). ``GET /v1/templates/export`` answers the CSV.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from switchboard_sdk import BadPayload, Conflict, InvalidInput, NotFound

from ..storage.conventions import iso
from ..storage.reads import TicketReads
from ..tenancy.audit import AuditLog
from ..workflow.template_csv import MAX_BYTES, export_csv, import_csv
from ..workflow.template_store import ImportChange, TemplateStore
from ..workflow.templates import (
    LANGUAGE_PATTERN,
    MAX_LANGUAGES,
    MAX_TEMPLATE_TAGS,
    Macro,
    MacroActions,
    MacroDraft,
    ReplyTemplate,
    TemplateDraft,
    pick_language,
    render_text,
    variables_for,
)
from .access import ADMIN_SCOPES, Access, ApiCall, Caller

WRITE_SCOPES = ADMIN_SCOPES | frozenset({"supervisor"})
MAX_IMPORT_BODY = 6 * MAX_BYTES  # a JSON body escapes each CJK character as \uXXXX
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
ImportMode = Literal["merge", "replace"]
T = TypeVar("T")


class UpdateTemplate(BaseModel):
    """A template's new title, texts and tags (all replaced), over the version read."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=200)
    texts: dict[str, str] = Field(max_length=MAX_LANGUAGES)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TEMPLATE_TAGS)
    version: int = Field(ge=1, description="The version read; another since is 409.")


class TemplateList(BaseModel):
    templates: list[ReplyTemplate]


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str = Field(min_length=1, max_length=128)
    language: str | None = Field(default=None, max_length=35, pattern=LANGUAGE_PATTERN,
                                 description="Default: the ticket's language, then the tenant's.")


class Rendered(BaseModel):
    code: str
    version: int
    language: str = Field(description="The text's language (see the fallback: zh-CN → zh → tenant's → first).")
    text: str


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csv: str = Field(description="The file: code,title,language,text,tags.")


class ImportReport(BaseModel):
    mode: ImportMode
    created: list[str]
    updated: list[str]
    deleted: list[str]
    unchanged: int


class UpdateMacro(MacroDraft):
    version: int = Field(ge=1, description="The version read; another since is 409.")


class MacroList(BaseModel):
    macros: list[Macro]


def new_macro_id() -> str:
    return f"mac_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"


class TemplateApi:
    def __init__(self, access: Access, store_factory: Callable[[str], TemplateStore], audit: AuditLog,
                 clock: Callable[[], datetime], reads: Callable[[str], TicketReads], *,
                 tenant_language: Callable[[str], str] | None = None) -> None:
        self._access = access
        self._stores = store_factory
        self._audit = audit
        self._clock = clock
        self._reads = reads
        self._tenant_language = tenant_language or (lambda _tenant_id: "en")

    # -- templates ---------------------------------------------------------------

    def list_templates(self, call: ApiCall) -> TemplateList:
        """By code; ``?tag=`` keeps those with that tag."""
        caller = self._access.tenant(call)
        tag = call.param("tag", 64)
        found = self._stores(caller.tenant_id).templates()
        shown = [t for t in found if tag is None or tag.lower() in t.tags]
        return TemplateList(templates=sorted(shown, key=lambda t: t.code))

    def get_template(self, call: ApiCall, code: str) -> ReplyTemplate:
        caller = self._access.tenant(call)
        return _found(self._stores(caller.tenant_id).template(code), "template")

    def create_template(self, call: ApiCall) -> ReplyTemplate:
        caller = self._access.tenant(call, WRITE_SCOPES)
        draft = call.json(TemplateDraft)
        template = self._stamped(caller, draft, 1)
        self._stores(caller.tenant_id).create_template(
            template, self._entry(caller, "template.create", f"template/{template.code}", None, template))
        return template

    def update_template(self, call: ApiCall, code: str) -> ReplyTemplate:
        caller = self._access.tenant(call, WRITE_SCOPES)
        request = call.json(UpdateTemplate)
        draft = _validated(TemplateDraft, request.model_dump(exclude={"version"}) | {"code": code})
        store = self._stores(caller.tenant_id)
        before = _found(store.template(code), "template")
        _same_version(before.version, request.version, "template")
        after = self._stamped(caller, draft, before.version + 1)
        store.update_template(before.version, after,
                              self._entry(caller, "template.update", f"template/{code}", before, after))
        return after

    def delete_template(self, call: ApiCall, code: str) -> ReplyTemplate:
        """Refused (409) while a macro replies with it; ``?version=`` guards against a stale delete."""
        caller = self._access.tenant(call, WRITE_SCOPES)
        store = self._stores(caller.tenant_id)
        template = _found(store.template(code), "template")
        _same_version(template.version, _version_param(call), "template")
        users = [m.name for m in store.macros() if m.actions.reply_template == code]
        if users:
            raise Conflict(f"macros reply with this template: {', '.join(sorted(users)[:10])}; change them first")
        store.delete_template(template, self._entry(caller, "template.delete", f"template/{code}", template, None))
        return template

    def render_template(self, call: ApiCall, code: str) -> Rendered:
        """The template filled in for a ticket and the calling agent (nothing is sent)."""
        caller = self._access.tenant(call)
        request = call.json(RenderRequest)
        template = _found(self._stores(caller.tenant_id).template(code), "template")
        reads = self._reads(caller.tenant_id)
        ticket = reads.ticket(request.ticket_id)
        customer = reads.get_customer(ticket.customer_id)
        language = pick_language(list(template.texts), request.language or ticket.language,
                                 self._tenant_language(caller.tenant_id))
        text = render_text(template.texts[language], variables_for(ticket, customer, caller.author_name))
        return Rendered(code=code, version=template.version, language=language, text=text)

    # -- CSV ---------------------------------------------------------------------

    def export_templates(self, call: ApiCall) -> str:
        """The CSV file (answer it as :data:`CSV_CONTENT_TYPE`)."""
        caller = self._access.tenant(call)
        return export_csv(self._stores(caller.tenant_id).templates())

    def import_templates(self, call: ApiCall) -> ImportReport:
        caller = self._access.tenant(call, WRITE_SCOPES)
        mode = _mode(call.param("mode", 16))
        drafts = import_csv(_csv_text(call))  # the whole file, before anything is written
        store = self._stores(caller.tenant_id)
        existing = {t.code: t for t in store.templates()}
        changes, unchanged = self._import_changes(caller, drafts, existing)
        if mode == "replace":
            named = {d.code for d in drafts}
            gone = [t for code, t in sorted(existing.items()) if code not in named]
            _not_used_by_macros(store, {t.code for t in gone})
            changes += [ImportChange("delete", t) for t in gone]
        store.apply(changes, lambda chunk: self._import_entry(caller, mode, chunk))
        by_kind = {k: [c.template.code for c in changes if c.kind == k] for k in ("create", "update", "delete")}
        return ImportReport(mode=mode, created=by_kind["create"], updated=by_kind["update"],
                            deleted=by_kind["delete"], unchanged=unchanged)

    def _import_changes(self, caller: Caller, drafts: list[TemplateDraft],
                        existing: dict[str, ReplyTemplate]) -> tuple[list[ImportChange], int]:
        changes: list[ImportChange] = []
        for draft in drafts:
            before = existing.get(draft.code)
            if before is None:
                changes.append(ImportChange("create", self._stamped(caller, draft, 1)))
            elif before.draft() != draft:
                changes.append(ImportChange("update", self._stamped(caller, draft, before.version + 1),
                                            before.version))
        return changes, len(drafts) - len(changes)

    def _import_entry(self, caller: Caller, mode: str, chunk: list[ImportChange]) -> dict[str, Any]:
        """One audit record per written chunk: which templates, at which versions (not their texts)."""
        after = {"mode": mode, "changes": [{"change": c.kind, "code": c.template.code, "version": c.template.version}
                                           for c in chunk]}
        return self._audit.entry(caller.tenant_id, caller.actor, "template.import", "templates", after=after)[1]

    # -- macros ------------------------------------------------------------------

    def list_macros(self, call: ApiCall) -> MacroList:
        caller = self._access.tenant(call)
        macros = self._stores(caller.tenant_id).macros()
        return MacroList(macros=sorted(macros, key=lambda m: (m.name.lower(), m.id)))

    def get_macro(self, call: ApiCall, macro_id: str) -> Macro:
        caller = self._access.tenant(call)
        return _found(self._stores(caller.tenant_id).macro(macro_id), "macro")

    def create_macro(self, call: ApiCall) -> Macro:
        caller = self._access.tenant(call, WRITE_SCOPES)
        draft = call.json(MacroDraft)
        store = self._stores(caller.tenant_id)
        _template_exists(store, draft.actions)
        macro = Macro(id=new_macro_id(), version=1, updated_at=iso(self._clock()), updated_by=caller.created_by,
                      **_fields(draft))
        store.create_macro(macro, self._entry(caller, "macro.create", f"macro/{macro.id}", None, macro))
        return macro

    def update_macro(self, call: ApiCall, macro_id: str) -> Macro:
        caller = self._access.tenant(call, WRITE_SCOPES)
        request = call.json(UpdateMacro)
        store = self._stores(caller.tenant_id)
        before = _found(store.macro(macro_id), "macro")
        _same_version(before.version, request.version, "macro")
        _template_exists(store, request.actions)
        after = Macro(id=macro_id, version=before.version + 1, updated_at=iso(self._clock()),
                      updated_by=caller.created_by, **_fields(request, exclude={"version"}))
        store.update_macro(before.version, after, self._entry(caller, "macro.update", f"macro/{macro_id}",
                                                              before, after))
        return after

    def delete_macro(self, call: ApiCall, macro_id: str) -> Macro:
        caller = self._access.tenant(call, WRITE_SCOPES)
        store = self._stores(caller.tenant_id)
        macro = _found(store.macro(macro_id), "macro")
        _same_version(macro.version, _version_param(call), "macro")
        store.delete_macro(macro, self._entry(caller, "macro.delete", f"macro/{macro_id}", macro, None))
        return macro

    # -- helpers -----------------------------------------------------------------

    def _stamped(self, caller: Caller, draft: TemplateDraft, version: int) -> ReplyTemplate:
        return ReplyTemplate(version=version, updated_at=iso(self._clock()), updated_by=caller.created_by,
                             **_fields(draft))

    def _entry(self, caller: Caller, action: str, target: str, before: BaseModel | None,
               after: BaseModel | None) -> dict[str, Any]:
        return self._audit.entry(caller.tenant_id, caller.actor, action, target,
                                 before=None if before is None else before.model_dump(mode="json"),
                                 after=None if after is None else after.model_dump(mode="json"))[1]


def _fields(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model's fields as they are (nested models kept: a macro's patch keeps what it sets)."""
    return {name: getattr(model, name) for name in type(model).model_fields if name not in (exclude or set())}


def _validated(model: type[TemplateDraft], data: dict[str, Any]) -> TemplateDraft:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput.from_validation_error(err, "invalid request body") from None


def _found(record: T | None, what: str) -> T:
    if record is None:
        raise NotFound(f"no such {what}")
    return record


def _same_version(stored: int, named: int | None, what: str) -> None:
    if named is not None and named != stored:
        raise Conflict(f"the {what} is at version {stored}, not {named}: read it again and retry")


def _version_param(call: ApiCall) -> int | None:
    raw = call.param("version", 12)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise BadPayload("version must be a positive integer")
    return int(raw)


def _mode(raw: str | None) -> ImportMode:
    if raw in (None, "merge"):
        return "merge"
    if raw == "replace":
        return "replace"
    raise BadPayload("mode must be merge or replace")


def _csv_text(call: ApiCall) -> str:
    """The CSV file of an import: the body itself, or a JSON body's ``csv``."""
    text = call.file_text("a CSV file", MAX_IMPORT_BODY, limit_shown=MAX_BYTES)
    if text.lstrip("\ufeff \t\r\n").startswith("{"):  # a CSV file starts with its header, never a brace
        return call.json(ImportRequest).csv
    return text


def _template_exists(store: TemplateStore, actions: MacroActions) -> None:
    code = actions.reply_template
    if code is not None and store.template(code) is None:
        raise InvalidInput(f"no template {code}", [{"field": "actions.reply_template", "message": "no such template"}])


def _not_used_by_macros(store: TemplateStore, codes: set[str]) -> None:
    used = sorted({m.actions.reply_template for m in store.macros() if m.actions.reply_template in codes} - {None})
    if used:
        raise InvalidInput("nothing was imported: the file leaves out templates macros reply with",
                           [{"field": f"template {code}", "message": "a macro uses it"} for code in used])
