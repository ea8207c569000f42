# ruff: noqa: RUF001  (the default survey texts are Chinese as well as English)
"""What a tenant admin sets about the service workflow (``TenantSettings.workflow`` and
``.surveys``): when solved tickets close, SLA warnings, who sees which tickets, and
satisfaction surveys (回访)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..storage.personal import DEFAULT_PERSONAL_ATTRIBUTES

LANGUAGE_KEY = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
ATTRIBUTE_NAME = r"^[a-z][a-z0-9_]{0,39}$"  # as a customer's attributes are named (workflow.customers)
MAX_PERSONAL_ATTRIBUTES = 50
Language = str
DEFAULT_TEXTS = {
    "en": "How satisfied were you with our help? Reply with a number from 1 (poor) to 5 (excellent).",
    "zh": "请为本次服务评分：回复 1（很差）到 5（很好）。",
}
DEFAULT_LINK_TEXTS = {"en": "Or choose with one click:", "zh": "或点击链接评分："}


Visibility = Literal["all", "groups", "assigned"]
Role = Literal["agent", "supervisor", "admin"]
PiiViewer = Literal["agent", "supervisor", "admin", "api_key"]  # agents by role; tenant-admin keys are "admin"


def _all_see_all() -> dict[Role, Visibility]:
    return {"agent": "all", "supervisor": "all", "admin": "all"}


def _full_view_default() -> list[PiiViewer]:
    """Supervisors, admins and integrations' keys; plain agents see masks."""
    return ["supervisor", "admin", "api_key"]


class WorkflowSettings(BaseModel):
    """How the tenant's tickets flow (issue 12): when solved tickets close, how early SLA
    warnings come, which business-hours calendar SLAs use by default, and who sees what."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    auto_close_hours: int = Field(default=96, ge=1, le=24 * 90)  # solved → closed (4 days)
    sla_warning_minutes: int = Field(default=15, ge=1, le=24 * 60)
    default_calendar_id: str | None = Field(default=None, max_length=64)
    # which tickets each role sees: every ticket, those of the agent's groups, or only the agent's own
    visibility: dict[Role, Visibility] = Field(default_factory=_all_see_all)
    # who sees customers' phone numbers, emails and ids in full; everyone else sees them masked
    pii_full_view_roles: list[PiiViewer] = Field(default_factory=_full_view_default, max_length=4)
    # customer attributes whose values are personal: sealed under the customer's key, masked
    # for roles without full view, left out of what rules match on
    personal_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAL_ATTRIBUTES),
                                           max_length=MAX_PERSONAL_ATTRIBUTES)

    @field_validator("pii_full_view_roles")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("name each role once")
        return value

    @field_validator("personal_attributes")
    @classmethod
    def _attribute_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(ATTRIBUTE_NAME, name):
                raise ValueError(f"attribute names are a-z, then up to 39 of a-z, 0-9, _ (not {name[:50]!r})")
        return list(dict.fromkeys(value))


class SurveySettings(BaseModel):
    """A tenant's survey settings (stored as ``TenantSettings.surveys``)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    delay_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60, description="After the ticket is solved.")
    texts: dict[Language, str] = Field(default_factory=lambda: dict(DEFAULT_TEXTS), max_length=50,
                                       description="The question per language (en, zh, pt-BR, …).")
    link_text: dict[Language, str] = Field(default_factory=lambda: dict(DEFAULT_LINK_TEXTS), max_length=50)
    expires_hours: int = Field(default=72, ge=1, le=30 * 24, description="Answers and links are taken this long.")
    follow_up_threshold: int = Field(default=2, ge=1, le=4, description="A score at most this opens a follow-up.")
    follow_up_sla_hours: int = Field(default=24, ge=1, le=7 * 24)
    comment_window_hours: int = Field(default=24, ge=0, le=7 * 24,
                                      description="A comment sent after the score is kept this long after it.")

    @field_validator("texts", "link_text")
    @classmethod
    def _per_language(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for language, text in value.items():
            if not re.fullmatch(LANGUAGE_KEY, language) or not 0 < len(text) <= 1000:
                raise ValueError("a language tag (en, zh-CN) → a text of 1–1000 characters")
        if info.field_name == "texts" and not value:
            raise ValueError("at least one language")
        return value

    def text_for(self, language: str | None) -> str:
        return _localised(self.texts, language)

    def link_text_for(self, language: str | None) -> str:
        return _localised(self.link_text, language) if self.link_text else ""


def _localised(texts: dict[str, str], language: str | None) -> str:
    """The text for ``language``: exact tag, then its primary language (zh-CN → zh), then English, then any."""
    tag = (language or "").strip()
    for candidate in (tag, tag.split("-")[0].lower(), "en"):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()))
