"""What an ``assistant`` plugin works with (contract 1.3).

An assistant answers standard questions before a person has to. The hub owns the
conversation around it (when to ask it, the tenant's threshold, handing off to people,
storing the trained model, never answering one message twice); the plugin owns the
language: training a model from the tenant's knowledge base, classifying a customer's
message into intents with a confidence, and proposing an answer from an article.

The flow, each step a hook (:mod:`.hookspecs`, "assistants"):

* the tenant's knowledge base changes → :func:`switchboard_assistant_train` (in the
  trainer function, asynchronously) → :class:`TrainedModel`, stored by the hub in S3;
* a container first needs that model → :func:`switchboard_assistant_load` (once per
  container and model);
* a customer's message arrives (behind the stream, never on the webhook path) →
  :func:`switchboard_assistant_classify`, then :func:`switchboard_assistant_answer`.
"""

from __future__ import annotations

import re
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator

LANGUAGE_PATTERN = r"^[a-z]{2,3}$"  # an ISO 639 code: "en", "zh"
INTENT_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
_NOT_IN_INTENT = re.compile(r"[^A-Za-z0-9_.:-]")


def intent_name(category: str) -> str:
    """A labelled file's category as an intent name: characters an intent cannot have become
    ``_`` (BANKING77 has ``reverted_card_payment?``), at most 64 characters. The hub's import
    and ``switchboard assistant evaluate`` both use it, so a file means the same in both."""
    return _NOT_IN_INTENT.sub("_", category.strip())[:64]


class _Frozen(BaseModel):
    # schemas compile on first use: every Lambda imports this module through the hookspecs
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class FaqArticle(_Frozen):
    """One answer of the knowledge base, in one language. ``questions`` are the ways
    customers ask it (the first is the title shown in the help centre); they are also
    labelled examples of ``intent`` (default ``faq:<id>``)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    language: str = Field(pattern=LANGUAGE_PATTERN)
    questions: list[str] = Field(min_length=1, max_length=200)
    answer: str = Field(min_length=1, max_length=4000)
    intent: str | None = Field(default=None, pattern=INTENT_PATTERN)

    @property
    def label(self) -> str:
        """The intent this article answers."""
        return self.intent or f"faq:{self.id}"


class IntentDefinition(_Frozen):
    """An intent with labelled example messages (any language), with or without an
    article that answers it: an intent without one is still detected, and becomes the
    ticket's category when the assistant hands it to people."""

    name: str = Field(pattern=INTENT_PATTERN)
    description: str = Field(default="", max_length=500)
    examples: list[str] = Field(default_factory=list, max_length=5000)


class KnowledgeBase(_Frozen):
    """A tenant's whole knowledge base at one version, as the trainer reads it."""

    tenant_id: str
    version: int = Field(ge=0)
    articles: list[FaqArticle] = Field(default_factory=list)
    intents: list[IntentDefinition] = Field(default_factory=list)

    def labelled(self) -> list[tuple[str, str]]:
        """Every labelled example, ``(text, intent)``, in a stable order."""
        pairs = [(question, article.label) for article in self.articles for question in article.questions]
        pairs += [(example, intent.name) for intent in self.intents for example in intent.examples]
        return pairs


class TrainedModel(BaseModel):
    """What training produced. ``data`` is opaque to the hub (it stores it in S3 and hands
    it back to :func:`switchboard_assistant_load`). ``threshold`` is the confidence above
    which answers reach the precision asked for, chosen from the training data alone;
    ``figures`` are the plugin's own measurements of it (``cv_accuracy``, ``coverage``…),
    shown to the tenant's admins. The same knowledge base must give the same model."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    data: bytes
    threshold: float = Field(ge=0.0, le=1.0)
    labels: list[str]
    figures: dict[str, float] = Field(default_factory=dict)


class AssistantQuery(_Frozen):
    """A customer's message as the assistant sees it: its text only (no identities)."""

    tenant_id: str
    text: str = Field(max_length=20_000)
    language: str | None = None  # the ticket's language when known
    channel: str = ""


class IntentScore(_Frozen):
    intent: str
    confidence: float = Field(ge=0.0, le=1.0)


class Classification(_Frozen):
    """Intents of a message, most likely first (at most five). ``language``: the one the
    plugin detected (``"en"``, ``"zh"``…), or ``None``."""

    intents: list[IntentScore] = Field(default_factory=list, max_length=5)
    language: str | None = None

    @field_validator("intents")
    @classmethod
    def _best_first(cls, intents: list[IntentScore]) -> list[IntentScore]:
        if any(a.confidence < b.confidence for a, b in pairwise(intents)):
            raise ValueError("intents must be ordered by confidence, highest first")
        return intents

    @property
    def top(self) -> IntentScore | None:
        return self.intents[0] if self.intents else None


class ProposedAnswer(_Frozen):
    """An answer the assistant would send: the article's text in the customer's language,
    the article it came from and the confidence it has in it."""

    text: str = Field(min_length=1, max_length=4000)
    article_id: str
    confidence: float = Field(ge=0.0, le=1.0)
    language: str = Field(pattern=LANGUAGE_PATTERN)


class AssistantConfig(BaseModel):
    """The settings every assistant has; a plugin's ``config_model`` subclasses this.

    ``threshold``: the tenant's confidence threshold (``None``: the one training chose
    for ``precision``). ``channels``: where it answers (empty: every channel).
    ``handoff_phrases``: besides the hub's own (转人工, 人工, agent, human…), what asks for a
    person. ``unhelpful_limit``: unhelpful answers in a row before it hands off."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    precision: float = Field(default=0.97, gt=0.0, lt=1.0)
    channels: list[str] = Field(default_factory=list)
    handoff_phrases: list[str] = Field(default_factory=list, max_length=50)
    unhelpful_limit: int = Field(default=2, ge=1, le=10)
