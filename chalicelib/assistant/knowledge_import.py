"""Knowledge files: the import JSON (``{"articles", "intents", "replace"}``, also what export
answers) and two CSV forms, told apart by their header:

* ``text,category``: labelled examples (BANKING77's form), one intent per category;
* ``id,language,question,answer[,intent]``: FAQ articles, one row per question (rows
  with the same id and language are one article; its answer is given once or repeated
  identically).

The whole file is read and checked before anything is written; a bad one is one 422
listing its rows (at most :data:`MAX_FIELDS`), never their text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import InvalidInput
from switchboard_sdk.assistant import intent_name

from .knowledge import Article, Intent, validated

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FIELDS = 20
EXAMPLE_COLUMNS = ("text", "category")
ARTICLE_COLUMNS = ("id", "language", "question", "answer")


class ArticleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    language: str
    questions: list[str]
    answer: str
    intent: str | None = None


class IntentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    examples: list[str]


class KnowledgeFile(BaseModel):
    """``POST /v1/knowledge/import`` (JSON) and ``GET /v1/knowledge/export``."""

    model_config = ConfigDict(extra="forbid")
    articles: list[ArticleEntry] = Field(default_factory=list)
    intents: list[IntentEntry] = Field(default_factory=list)
    replace: bool = Field(default=False, description="Also delete the articles and intents the file leaves out.")


@dataclass(frozen=True)
class Parsed:
    articles: list[Article]
    intents: list[Intent]
    replace: bool


def parse_json(data: KnowledgeFile) -> Parsed:
    """The JSON form, each record validated as the API's (the first bad ones named)."""
    errors: list[dict[str, str]] = []
    articles = _each(Article, [a.model_dump() for a in data.articles], "articles", errors)
    intents = _each(Intent, [i.model_dump() for i in data.intents], "intents", errors)
    _refuse(errors)
    _unique([(a.id, a.language) for a in articles], "articles", "an article id and language")
    _unique([(i.name,) for i in intents], "intents", "an intent name")
    return Parsed(articles, intents, data.replace)


def parse_csv(text: str, replace: bool) -> Parsed:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise InvalidInput("the file is empty", [{"field": "(file)", "message": "no header"}])
    header = [name.strip().lower() for name in rows[0]]
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if tuple(header[:2]) == EXAMPLE_COLUMNS:
        return Parsed([], _intents(body), replace)
    if tuple(header[:4]) == ARTICLE_COLUMNS:
        return Parsed(_articles(body, "intent" in header[4:5]), [], replace)
    raise InvalidInput("the header must be text,category or id,language,question,answer[,intent]",
                       [{"field": "(header)", "message": "unknown columns"}])


def _intents(rows: list[tuple[int, list[str]]]) -> list[Intent]:
    grouped: dict[str, list[str]] = {}
    for number, row in rows:
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise InvalidInput(f"row {number}: text and category are required",
                               [{"field": f"row {number}", "message": "text and category are required"}])
        grouped.setdefault(intent_name(row[1]), []).append(row[0])
    errors: list[dict[str, str]] = []
    intents = _each(Intent, [{"name": name, "examples": examples} for name, examples in grouped.items()],
                    "category", errors)
    _refuse(errors)
    return intents


def _articles(rows: list[tuple[int, list[str]]], with_intent: bool) -> list[Article]:
    grouped: dict[tuple[str, str], dict[str, object]] = {}
    for number, row in rows:
        cells = [cell.strip() for cell in row] + [""] * 5
        article_id, language, question, answer, intent = cells[:5]
        entry = grouped.setdefault((article_id, language), {"id": article_id, "language": language,
                                                            "questions": [], "answer": "", "intent": None})
        questions = entry["questions"]
        assert isinstance(questions, list)
        questions.append(question)
        if answer and entry["answer"] and answer != entry["answer"]:
            raise InvalidInput(f"row {number}: another answer for article {article_id[:64]} ({language[:8]})",
                               [{"field": f"row {number}", "message": "the article's answer differs"}])
        entry["answer"] = entry["answer"] or answer
        if with_intent and intent:
            entry["intent"] = intent
    errors: list[dict[str, str]] = []
    articles = _each(Article, list(grouped.values()), "article", errors)
    _refuse(errors)
    return articles


def _each(model: type[Article] | type[Intent], entries: list[dict[str, object]], what: str,
          errors: list[dict[str, str]]) -> list[Any]:
    records: list[Any] = []
    for index, entry in enumerate(entries):
        try:
            records.append(validated(model, entry, what))
        except InvalidInput as err:
            label = f"{what}[{index}]"
            errors += [{"field": f"{label}.{f['field']}", "message": f["message"]} for f in err.fields]
    return records


def _unique(keys: Iterable[tuple[str, ...]], field: str, what: str) -> None:
    seen: set[tuple[str, ...]] = set()
    for key in keys:
        if key in seen:
            raise InvalidInput(f"{what} appears twice: {'/'.join(key)[:80]}", [{"field": field, "message": "twice"}])
        seen.add(key)


def _refuse(errors: list[dict[str, str]]) -> None:
    if errors:
        raise InvalidInput(f"nothing was imported: {len(errors)} problem(s) in the file", errors[:MAX_FIELDS])
