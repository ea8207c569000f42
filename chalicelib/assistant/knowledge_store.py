"""A tenant's knowledge base in the table (keys: :mod:`.knowledge_keys`).

Every change is one transaction of the records it writes or deletes, the base's
``VERSION`` item (version + 1, the running counts of articles, intents and examples,
conditional on the version read: two writers never both pass) and the change's audit
record. So the version names exactly one state of the base, the counts the limits
need are read with one ``GetItem``, and the audit log never misses a change. An import
is written in chunks of at most :data:`CHUNK` records and :data:`CHUNK_BYTES` (one
transaction carries at most 100 items and 4 MB), each chunk a change of its own.

:meth:`KnowledgeStore.load` reads the whole base with one paginated Query of its
partition (no Scan) for the trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import Conflict
from switchboard_sdk.assistant import KnowledgeBase

from ..storage.aws import write_together
from ..storage.items import from_item, to_item
from ..storage.keys import Key
from ..storage.table import TenantTable
from . import knowledge_keys as kb_keys
from .knowledge import Article, Intent, IntentSummary, example_count, sized

CHUNK = 24  # records per transaction, besides the version item and the audit record
CHUNK_BYTES = 3_000_000
_RACED = "the knowledge base changed meanwhile; read it again and retry"


@dataclass(frozen=True)
class KnowledgeMeta:
    """The base's version and counts (the ``VERSION`` item; zeros before the first change)."""

    version: int = 0
    articles: int = 0
    intents: int = 0
    examples: int = 0
    updated_at: str | None = None


@dataclass(frozen=True)
class Change:
    """One record written (``after``) or deleted (``after`` None), and what it replaced."""

    before: Article | Intent | None
    after: Article | Intent | None

    @property
    def record(self) -> Article | Intent:
        record = self.after or self.before
        assert record is not None  # a change names one of them
        return record


def counted(meta: KnowledgeMeta, changes: list[Change], at: str) -> KnowledgeMeta:
    """``meta`` after ``changes`` (one version later)."""
    articles, intents, examples = meta.articles, meta.intents, meta.examples
    for change in changes:
        delta = (change.after is not None) - (change.before is not None)
        if isinstance(change.record, Article):
            articles += delta
        else:
            intents += delta
        examples += example_count(change.after) - example_count(change.before)
    return KnowledgeMeta(meta.version + 1, articles, intents, examples, at)


class KnowledgeStore(TenantTable):
    # -- reads -------------------------------------------------------------------

    def meta(self) -> KnowledgeMeta:
        item = self._get(kb_keys.version(self.keys))
        if item is None:
            return KnowledgeMeta()
        return KnowledgeMeta(int(item["version"]), int(item.get("articles", 0)), int(item.get("intents", 0)),
                             int(item.get("examples", 0)), item.get("updated_at"))

    def articles(self, language: str | None = None) -> list[Article]:
        items = self._query(kb_keys.ARTICLE)
        found = [Article.model_validate_json(i["doc"]) for i in items]
        return [a for a in found if language is None or a.language == language]

    def article(self, article_id: str, language: str) -> Article | None:
        item = self._get(kb_keys.article(self.keys, article_id, language))
        return None if item is None else Article.model_validate_json(item["doc"])

    def intent_summaries(self) -> list[IntentSummary]:
        items = self._query(kb_keys.INTENT, projection="#n, description, examples, updated_at")
        return [IntentSummary(name=i["name"], description=i.get("description", ""), example_count=i["examples"],
                              updated_at=i.get("updated_at", "")) for i in items]

    def intents(self) -> list[Intent]:
        return [Intent.model_validate_json(i["doc"]) for i in self._query(kb_keys.INTENT)]

    def intent(self, name: str) -> Intent | None:
        item = self._get(kb_keys.intent(self.keys, name))
        return None if item is None else Intent.model_validate_json(item["doc"])

    def load(self) -> KnowledgeBase:
        """The whole base at one version, for training (one Query of the partition, paginated)."""
        articles: list[Article] = []
        intents: list[Intent] = []
        version = 0
        for item in self._query(""):
            sort_key = item["sk"]
            if sort_key.startswith(kb_keys.ARTICLE):
                articles.append(Article.model_validate_json(item["doc"]))
            elif sort_key.startswith(kb_keys.INTENT):
                intents.append(Intent.model_validate_json(item["doc"]))
            elif sort_key == kb_keys.VERSION:
                version = int(item["version"])
        return KnowledgeBase(tenant_id=self.tenant_id, version=version,
                             articles=[a.for_training() for a in articles], intents=[i.for_training() for i in intents])

    # -- writes ------------------------------------------------------------------

    def write(self, meta: KnowledgeMeta, changes: list[Change], at: str, audit: dict[str, Any]) -> KnowledgeMeta:
        """``changes`` and the next version, over ``meta`` as read; :class:`Conflict` if it moved."""
        after = counted(meta, changes, at)
        writes = [self._write(change) for change in changes]
        if not all(write_together(self._db, [*writes, self._bump(meta, after), audit])):
            raise Conflict(_RACED)
        return after

    def apply(self, meta: KnowledgeMeta, changes: list[Change], at: str,
              audit_for: Callable[[list[Change]], dict[str, Any]]) -> KnowledgeMeta:
        """An import: ``changes`` in chunks, each one version; :class:`Conflict` when the base moved
        meanwhile (the chunks before stay written: importing again finishes it)."""
        for chunk in _chunks(changes):
            meta = self.write(meta, chunk, at, audit_for(chunk))
        return meta

    def _write(self, change: Change) -> dict[str, Any]:
        key = self._key_of(change.record)
        if change.after is None:
            return {"Delete": {"TableName": self._table, "Key": key}}
        return {"Put": {"TableName": self._table, "Item": key | to_item(_fields(change.after))}}

    def _key_of(self, record: Article | Intent) -> Key:
        if isinstance(record, Article):
            return kb_keys.article(self.keys, record.id, record.language)
        return kb_keys.intent(self.keys, record.name)

    def _bump(self, before: KnowledgeMeta, after: KnowledgeMeta) -> dict[str, Any]:
        values = {":v": after.version, ":a": after.articles, ":i": after.intents, ":e": after.examples,
                  ":at": after.updated_at, ":was": before.version}
        return {"Update": {
            "TableName": self._table, "Key": kb_keys.version(self.keys),
            "UpdateExpression": "SET version = :v, articles = :a, intents = :i, examples = :e, updated_at = :at, "
                                "#t = :type",
            "ConditionExpression": "attribute_not_exists(pk) OR version = :was",
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": to_item(values | {":type": "kb-version"})}}

    def _query(self, prefix: str, projection: str | None = None) -> Iterator[dict[str, Any]]:
        """The partition's items whose sort key starts with ``prefix``, page by page."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :k)",
            "ExpressionAttributeValues": to_item({":p": kb_keys.partition(self.keys), ":k": prefix}),
            "ConsistentRead": True,
        }
        if prefix == "":
            kwargs["KeyConditionExpression"] = "pk = :p"
            kwargs["ExpressionAttributeValues"] = to_item({":p": kb_keys.partition(self.keys)})
        if projection:
            kwargs |= {"ProjectionExpression": projection, "ExpressionAttributeNames": {"#n": "name"}}
        while True:
            result = self._db.query(**kwargs)
            yield from (from_item(i) for i in result.get("Items", []))
            if "LastEvaluatedKey" not in result:
                return
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def _fields(record: Article | Intent) -> dict[str, Any]:
    doc = sized(record)
    fields: dict[str, Any] = {"doc": doc, "examples": example_count(record), "updated_at": record.updated_at}
    if isinstance(record, Article):
        return fields | {"type": "kb-article", "language": record.language}
    return fields | {"type": "kb-intent", "name": record.name, "description": record.description}


def _chunks(changes: list[Change]) -> Iterator[list[Change]]:
    chunk: list[Change] = []
    size = 0
    for change in changes:
        bytes_ = len(change.after.model_dump_json().encode("utf-8")) if change.after else 200
        if chunk and (len(chunk) == CHUNK or size + bytes_ > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(change)
        size += bytes_
    if chunk:
        yield chunk

