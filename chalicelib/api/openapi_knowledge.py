"""The OpenAPI operations of the knowledge base and the help centre (issue 14,
docs/assistant.md). Kept beside :mod:`.openapi`, which lists them."""

from __future__ import annotations

from pydantic import BaseModel

from ..assistant.knowledge import Article, ArticleDraft, Intent, IntentDraft
from ..assistant.knowledge_import import KnowledgeFile
from .knowledge import ArticleList, IntentList, KnowledgeImportReport, ModelStatus, TrainQueued
from .openapi_types import Operation, Query

ADMIN = ("tenant-admin",)
READ_ERRORS = (401, 403, 404, 429)
WRITE_ERRORS = (401, 403, 404, 409, 422, 429)


class NoContent(BaseModel):
    """Nothing (204)."""


class HelpPage(BaseModel):
    """The tenant's help centre: an HTML page (no key)."""


KNOWLEDGE_OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/v1/knowledge/articles", "list_knowledge_articles", "The FAQ articles, by id and language",
              "knowledge", ArticleList,
              query=(Query("language", {"type": "string", "pattern": "^[a-z]{2,3}$"}, "Only this language."),)),
    Operation("put", "/v1/knowledge/articles/{article_id}/{language}", "put_knowledge_article",
              "Create or replace an article in one language", "knowledge", Article, body=ArticleDraft, scopes=ADMIN,
              errors=WRITE_ERRORS),
    Operation("delete", "/v1/knowledge/articles/{article_id}/{language}", "delete_knowledge_article",
              "Delete an article in one language", "knowledge", NoContent, status=204, scopes=ADMIN,
              errors=WRITE_ERRORS, media_type="text/plain"),
    Operation("get", "/v1/knowledge/intents", "list_knowledge_intents", "The intents, with their example counts",
              "knowledge", IntentList),
    Operation("get", "/v1/knowledge/intents/{name}", "get_knowledge_intent", "An intent and its examples",
              "knowledge", Intent, errors=READ_ERRORS),
    Operation("put", "/v1/knowledge/intents/{name}", "put_knowledge_intent",
              "Create or replace an intent's examples", "knowledge", Intent, body=IntentDraft, scopes=ADMIN,
              errors=WRITE_ERRORS),
    Operation("delete", "/v1/knowledge/intents/{name}", "delete_knowledge_intent", "Delete an intent",
              "knowledge", NoContent, status=204, scopes=ADMIN, errors=WRITE_ERRORS, media_type="text/plain"),
    Operation("post", "/v1/knowledge/import", "import_knowledge",
              "Import JSON, or CSV (text,category or id,language,question,answer[,intent]); checked whole first",
              "knowledge", KnowledgeImportReport, body=KnowledgeFile, scopes=ADMIN,
              errors=(400, 401, 403, 409, 422, 429),
              query=(Query("replace", {"type": "string", "enum": ["true", "false"]},
                           "CSV: also delete what the file leaves out (JSON: its `replace`)."),)),
    Operation("get", "/v1/knowledge/export", "export_knowledge", "The whole base, as the import takes it",
              "knowledge", KnowledgeFile),
    Operation("get", "/v1/knowledge/model", "get_knowledge_model",
              "The tenant's assistant model: training state, version, threshold, figures", "knowledge", ModelStatus),
    Operation("post", "/v1/knowledge/train", "train_knowledge", "Train the model again (asynchronously)",
              "knowledge", TrainQueued, status=202, scopes=ADMIN, errors=(401, 403, 422, 429)),
    Operation("get", "/help/{tenant}", "help_centre", "The tenant's public help centre (FAQ and search)",
              "knowledge", HelpPage, scopes=(), errors=(404, 429), page=True,
              query=(Query("q", {"type": "string", "maxLength": 200}, "Search."),
                     Query("lang", {"type": "string", "pattern": "^[a-z]{2,3}$"}, "Language (en, zh)."))),
)
