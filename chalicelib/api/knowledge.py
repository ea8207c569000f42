"""The knowledge base: ``/v1/knowledge/...`` (articles, intents, import/export, the model).

Any reading caller (agents of every role, read keys) reads; tenant admins write, and
every write is in the tenant's audit log, in the same transaction as the change and
the base's version (:mod:`chalicelib.assistant.knowledge_store`). Every change that
moves the version sends one training job (:mod:`chalicelib.assistant.training`): the
answer comes back at once and ``GET /v1/knowledge/model`` says how training goes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field
from switchboard_sdk import BadPayload, Conflict, InvalidInput, NotFound

from ..assistant.knowledge import (
    Article,
    ArticleDraft,
    Intent,
    IntentDraft,
    IntentSummary,
    check_totals,
    example_count,
    validated,
)
from ..assistant.knowledge_import import MAX_FILE_BYTES, KnowledgeFile, Parsed, parse_csv, parse_json
from ..assistant.knowledge_store import Change, KnowledgeStore, counted
from ..assistant.models_store import enabled_assistant
from ..assistant.training import TrainingQueue
from ..assistant.training_state import ModelRecords
from ..storage.conventions import iso
from ..tenancy.audit import AuditLog
from ..tenancy.tenants import TenantDirectory
from .access import ADMIN_SCOPES, Access, ApiCall, Caller

log = logging.getLogger(__name__)
T = TypeVar("T")
LANGUAGE = re.compile(r"[a-z]{2,3}")
WRITE_ATTEMPTS = 3  # a single change read again after another writer moved the version


class ArticleList(BaseModel):
    items: list[Article]


class IntentList(BaseModel):
    items: list[IntentSummary]


class KnowledgeImportReport(BaseModel):
    articles: int = Field(description="Articles (per language) in the file.")
    intents: int = Field(description="Intents in the file.")
    examples: int = Field(description="Questions and examples in the file.")
    knowledge_version: int


class ModelStatus(BaseModel):
    assistant: str | None = Field(description="The tenant's enabled assistant plugin.")
    state: Literal["none", "queued", "training", "ready", "failed"]
    knowledge_version: int
    model_version: int | None = Field(description="The knowledge version the model in use was trained from.")
    trained_at: str | None
    threshold: float | None = Field(description="The threshold training chose.")
    effective_threshold: float | None = Field(description="The tenant's override, else the trained one.")
    labels: int
    figures: dict[str, float]
    error: str | None


class TrainQueued(BaseModel):
    state: Literal["queued"]
    knowledge_version: int


class KnowledgeApi:
    def __init__(self, access: Access, stores: Callable[[str], KnowledgeStore], records: Callable[[str], ModelRecords],
                 queue: TrainingQueue, tenants: TenantDirectory, audit: AuditLog,
                 clock: Callable[[], datetime]) -> None:
        self._access = access
        self._stores = stores
        self._records = records
        self._queue = queue
        self._tenants = tenants
        self._audit = audit
        self._clock = clock

    # -- articles ----------------------------------------------------------------

    def list_articles(self, call: ApiCall) -> ArticleList:
        caller = self._access.tenant(call)
        language = call.query.get("language")
        if language is not None and not LANGUAGE.fullmatch(language):
            raise BadPayload("language must be a language code such as en or zh")
        articles = self._stores(caller.tenant_id).articles(language)
        return ArticleList(items=sorted(articles, key=lambda a: (a.id, a.language)))

    def put_article(self, call: ApiCall, article_id: str, language: str) -> Article:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        draft = call.json(ArticleDraft)
        data = draft.model_dump() | {"id": article_id, "language": language, "updated_at": iso(self._clock())}
        article: Article = validated(Article, data, "article")
        self._change(caller, "knowledge.article.put", f"article/{article_id}/{language}",
                     lambda store: store.article(article_id, language), article)
        return article

    def delete_article(self, call: ApiCall, article_id: str, language: str) -> None:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        self._change(caller, "knowledge.article.delete", f"article/{article_id}/{language}",
                     lambda store: _found(store.article(article_id, language), "article"), None)

    # -- intents -----------------------------------------------------------------

    def list_intents(self, call: ApiCall) -> IntentList:
        caller = self._access.tenant(call)
        return IntentList(items=sorted(self._stores(caller.tenant_id).intent_summaries(), key=lambda i: i.name))

    def get_intent(self, call: ApiCall, name: str) -> Intent:
        caller = self._access.tenant(call)
        return _found(self._stores(caller.tenant_id).intent(name), "intent")

    def put_intent(self, call: ApiCall, name: str) -> Intent:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        draft = call.json(IntentDraft)
        intent: Intent = validated(Intent, draft.model_dump() | {"name": name, "updated_at": iso(self._clock())},
                                   "intent")
        self._change(caller, "knowledge.intent.put", f"intent/{name}", lambda store: store.intent(name), intent)
        return intent

    def delete_intent(self, call: ApiCall, name: str) -> None:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        self._change(caller, "knowledge.intent.delete", f"intent/{name}",
                     lambda store: _found(store.intent(name), "intent"), None)

    # -- import, export ----------------------------------------------------------

    def import_knowledge(self, call: ApiCall) -> KnowledgeImportReport:
        """JSON (:class:`KnowledgeFile`) or CSV (``?replace=true`` to replace); checked whole first."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        parsed = _parsed(call)
        store = self._stores(caller.tenant_id)
        meta = store.meta()
        changes = _import_changes(store, parsed, iso(self._clock()))
        final = counted(meta, changes, "")
        check_totals(final.examples, final.articles, final.intents)
        if changes:
            meta = store.apply(meta, changes, iso(self._clock()), lambda chunk: self._import_entry(caller, chunk))
            self._train(caller.tenant_id, meta.version)
        examples = sum(len(a.questions) for a in parsed.articles) + sum(len(i.examples) for i in parsed.intents)
        return KnowledgeImportReport(articles=len(parsed.articles), intents=len(parsed.intents), examples=examples,
                            knowledge_version=meta.version)

    def export_knowledge(self, call: ApiCall) -> KnowledgeFile:
        caller = self._access.tenant(call)
        store = self._stores(caller.tenant_id)
        articles = sorted(store.articles(), key=lambda a: (a.id, a.language))
        intents = sorted(store.intents(), key=lambda i: i.name)
        return KnowledgeFile.model_validate({
            "articles": [a.model_dump(exclude={"updated_at"}) for a in articles],
            "intents": [i.model_dump(exclude={"updated_at"}) for i in intents]})

    # -- the model ---------------------------------------------------------------

    def model_status(self, call: ApiCall) -> ModelStatus:
        caller = self._access.tenant(call)
        tenant = self._tenants.load(caller.tenant_id)
        plugin = enabled_assistant(self._tenants, tenant)
        records = self._records(caller.tenant_id)
        pointer, job = records.pointer(), records.state()
        version = self._stores(caller.tenant_id).meta().version
        state = "none" if job is None else job.state
        if pointer is not None and (job is None or job.knowledge_version <= pointer.knowledge_version):
            state = "ready"
        override = _override(self._tenants, tenant, plugin)
        trained = pointer.threshold if pointer else None
        return ModelStatus(
            assistant=plugin, state=state, knowledge_version=version,
            model_version=pointer.knowledge_version if pointer else None,
            trained_at=pointer.trained_at if pointer else None, threshold=trained,
            effective_threshold=override if override is not None else trained,
            labels=pointer.labels if pointer else 0, figures=pointer.figures if pointer else {},
            error=job.error if job is not None and job.state == "failed" else None)

    def train(self, call: ApiCall) -> TrainQueued:
        caller = self._access.tenant(call, ADMIN_SCOPES)
        version = self._stores(caller.tenant_id).meta().version
        if version == 0:
            raise InvalidInput("the knowledge base is empty: import articles or intents first",
                               [{"field": "knowledge", "message": "empty"}])
        self._queue.enqueue(caller.tenant_id, version)
        return TrainQueued(state="queued", knowledge_version=version)

    # -- helpers -----------------------------------------------------------------

    def _change(self, caller: Caller, action: str, target: str,
                read: Callable[[KnowledgeStore], Article | Intent | None], after: Article | Intent | None) -> None:
        """One record written or deleted with the version and its audit record; read again on a race."""
        store = self._stores(caller.tenant_id)
        for attempt in range(WRITE_ATTEMPTS):
            meta, before = store.meta(), read(store)
            change = Change(before, after)
            final = counted(meta, [change], "")
            check_totals(final.examples, final.articles, final.intents)
            entry = self._entry(caller, action, target, before, after)
            try:
                meta = store.write(meta, [change], iso(self._clock()), entry)
            except Conflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                continue
            self._train(caller.tenant_id, meta.version)
            return

    def _train(self, tenant_id: str, version: int) -> None:
        """A training job for the new version; the change stands if sending fails (``train`` sends again)."""
        try:
            self._queue.enqueue(tenant_id, version)
        except Exception:
            log.warning("training job for knowledge version %s not sent; POST /v1/knowledge/train sends one",
                        version, exc_info=True)

    def _entry(self, caller: Caller, action: str, target: str, before: Article | Intent | None,
               after: Article | Intent | None) -> dict[str, Any]:
        """The audit record: what changed, by counts (the texts are in the base itself)."""
        def summary(record: Article | Intent | None) -> dict[str, Any] | None:
            if record is None:
                return None
            extra = {"intent": record.intent} if isinstance(record, Article) else {}
            return {"examples": example_count(record), **extra}

        return self._audit.entry(caller.tenant_id, caller.actor, action, target, before=summary(before),
                                 after=summary(after))[1]

    def _import_entry(self, caller: Caller, chunk: list[Change]) -> dict[str, Any]:
        changes = [{"change": "delete" if c.after is None else "put", "target": _target(c.record)} for c in chunk]
        return self._audit.entry(caller.tenant_id, caller.actor, "knowledge.import", "knowledge",
                                 after={"changes": changes})[1]


def _import_changes(store: KnowledgeStore, parsed: Parsed, at: str) -> list[Change]:
    """What the file changes: new or different records (stamped ``at``); with replace, deletions."""
    articles = {(a.id, a.language): a for a in store.articles()}
    intents = {i.name: i for i in store.intents()}
    changes: list[Change] = []
    for article in parsed.articles:
        before = articles.get((article.id, article.language))
        if before is None or before.model_copy(update={"updated_at": ""}) != article:
            changes.append(Change(before, article.model_copy(update={"updated_at": at})))
    for intent in parsed.intents:
        was = intents.get(intent.name)
        if was is None or was.model_copy(update={"updated_at": ""}) != intent:
            changes.append(Change(was, intent.model_copy(update={"updated_at": at})))
    if parsed.replace:
        kept_articles = {(a.id, a.language) for a in parsed.articles}
        kept_intents = {i.name for i in parsed.intents}
        changes += [Change(a, None) for key, a in sorted(articles.items()) if key not in kept_articles]
        changes += [Change(i, None) for name, i in sorted(intents.items()) if name not in kept_intents]
    return changes


def _parsed(call: ApiCall) -> Parsed:
    text = call.file_text("a JSON or CSV file", MAX_FILE_BYTES)
    replace = _replace(call.query.get("replace"))
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        parsed = parse_json(call.json(KnowledgeFile))
        return Parsed(parsed.articles, parsed.intents, parsed.replace or replace)
    return parse_csv(text, replace)


def _replace(raw: str | None) -> bool:
    if raw in (None, "false"):
        return False
    if raw == "true":
        return True
    raise BadPayload("replace must be true or false")


def _override(tenants: TenantDirectory, tenant: Any, plugin: str | None) -> float | None:
    if plugin is None:
        return None
    try:
        threshold = getattr(tenants.plugin_config(tenant, plugin), "threshold", None)
    except Exception:  # a config that no longer validates: the model's own threshold is shown
        return None
    return threshold if isinstance(threshold, float) else None


def _target(record: Article | Intent) -> str:
    return f"article/{record.id}/{record.language}" if isinstance(record, Article) else f"intent/{record.name}"


def _found(record: T | None, what: str) -> T:
    if record is None:
        raise NotFound(f"no such {what}")
    return record
