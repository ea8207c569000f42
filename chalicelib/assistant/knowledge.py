"""A tenant's knowledge base as the API and the store see it: FAQ articles (one per id
and language) and intents with labelled examples, and the limits that keep every item
well under DynamoDB's 400 KB and a whole base trainable within a Lambda's 15 minutes.

The SDK's :class:`~switchboard_sdk.assistant.FaqArticle` and
:class:`~switchboard_sdk.assistant.IntentDefinition` are what plugins train on; the
records here add what the hub keeps beside them (``updated_at``) and the hub's own,
tighter limits, each refused with a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from switchboard_sdk import InvalidInput
from switchboard_sdk.assistant import LANGUAGE_PATTERN, FaqArticle, IntentDefinition

ARTICLE_ID = r"^[A-Za-z0-9_.-]{1,64}$"
INTENT_NAME = r"^[A-Za-z0-9_.:-]{1,64}$"
MAX_QUESTIONS = 100  # per article
MAX_EXAMPLES = 1000  # per intent
MAX_TEXT = 500  # characters of one question or example
MAX_ANSWER = 4000
MAX_ITEM_BYTES = 300_000  # one article's or intent's JSON (DynamoDB's item limit is 400 KB)
MAX_TOTAL_EXAMPLES = 20_000  # questions and examples of the whole base
MAX_ARTICLES = 2000  # article-languages
MAX_INTENTS = 1000


def _texts(values: list[str], what: str) -> list[str]:
    """Trimmed, blank ones dropped, repeats dropped (first kept), each at most :data:`MAX_TEXT`."""
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(value.split())
        if len(text) > MAX_TEXT:
            raise ValueError(f"each {what} must be at most {MAX_TEXT} characters")
        if text:
            seen.setdefault(text, None)
    return list(seen)


class ArticleDraft(BaseModel):
    """``PUT /v1/knowledge/articles/{id}/{language}``: an article's questions (the first is its
    title in the help centre), its answer, and optionally the intent it answers."""

    model_config = ConfigDict(extra="forbid")
    questions: list[str] = Field(min_length=1, max_length=MAX_QUESTIONS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)
    intent: str | None = Field(default=None, pattern=INTENT_NAME)

    @field_validator("questions")
    @classmethod
    def _questions(cls, values: list[str]) -> list[str]:
        cleaned = _texts(values, "question")
        if not cleaned:
            raise ValueError("at least one question that is not blank")
        return cleaned

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the answer must not be blank")
        return value.strip()


class Article(ArticleDraft):
    id: str = Field(pattern=ARTICLE_ID)
    language: str = Field(pattern=LANGUAGE_PATTERN)
    updated_at: str = ""

    def for_training(self) -> FaqArticle:
        return FaqArticle(id=self.id, language=self.language, questions=self.questions, answer=self.answer,
                          intent=self.intent)


class IntentDraft(BaseModel):
    """``PUT /v1/knowledge/intents/{name}``: labelled example messages of one intent."""

    model_config = ConfigDict(extra="forbid")
    description: str = Field(default="", max_length=500)
    examples: list[str] = Field(max_length=MAX_EXAMPLES)

    @field_validator("examples")
    @classmethod
    def _examples(cls, values: list[str]) -> list[str]:
        return _texts(values, "example")


class Intent(IntentDraft):
    name: str = Field(pattern=INTENT_NAME)
    updated_at: str = ""

    def for_training(self) -> IntentDefinition:
        return IntentDefinition(name=self.name, description=self.description, examples=self.examples)


class IntentSummary(BaseModel):
    name: str
    description: str
    example_count: int
    updated_at: str


def sized(record: Article | Intent) -> str:
    """The record's JSON as stored; a 422 when it would make too large an item."""
    doc = record.model_dump_json()
    if len(doc.encode("utf-8")) > MAX_ITEM_BYTES:
        field = "questions" if isinstance(record, Article) else "examples"
        raise InvalidInput(f"this {type(record).__name__.lower()} is over {MAX_ITEM_BYTES:,} bytes: split it",
                           [{"field": field, "message": "too large"}])
    return doc


def example_count(record: Article | Intent | None) -> int:
    """What a record adds to the base's total of labelled examples."""
    if record is None:
        return 0
    return len(record.questions) if isinstance(record, Article) else len(record.examples)


def check_totals(examples: int, articles: int, intents: int) -> None:
    """The whole base's limits (after a change), as one 422."""
    fields = []
    if examples > MAX_TOTAL_EXAMPLES:
        fields.append({"field": "examples", "message": f"at most {MAX_TOTAL_EXAMPLES:,} questions and examples"})
    if articles > MAX_ARTICLES:
        fields.append({"field": "articles", "message": f"at most {MAX_ARTICLES:,} articles (per language)"})
    if intents > MAX_INTENTS:
        fields.append({"field": "intents", "message": f"at most {MAX_INTENTS:,} intents"})
    if fields:
        raise InvalidInput("the knowledge base would be too large: " + "; ".join(f["message"] for f in fields),
                           fields)


def validated(model: type[Any], data: Any, what: str) -> Any:
    """``data`` as ``model``, or the 422 naming the fields (never their values)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput.from_validation_error(err, f"invalid {what}") from None
