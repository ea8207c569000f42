"""The public help centre: ``GET /help/{tenant}``, the tenant's FAQ as one HTML page.

Server-rendered and script-free: every text is escaped, and the Content-Security-Policy
allows no script, no frame and no other origin (``default-src 'none'``). The language is
``?lang=`` when the base has it, else the best of ``Accept-Language``, else the tenant's,
else the base's first. Articles are grouped by the intent they answer (an intent's
description names its group). ``?q=`` searches: the tenant's assistant's proposed answer
first when it is confident (above the effective threshold), then the articles whose
questions or answer contain every word of the query (any substring for Chinese).

Unknown or suspended tenants, and tenants without articles, get the same 404 page, so
the page tells nobody which tenants exist. Each request spends the tenant's ``help``
rate (429 with ``Retry-After`` past it).
"""

# ruff: noqa: RUF001  (the page's Chinese texts)
from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

from switchboard_sdk import NotFound, PluginRegistry, RateLimited, SwitchboardError
from switchboard_sdk.assistant import AssistantQuery, ProposedAnswer

from ..tenancy.tenants import TenantDirectory
from .knowledge import Article, Intent
from .knowledge_store import KnowledgeStore
from .models_store import AssistantModels

log = logging.getLogger(__name__)
MAX_QUERY = 200
MAX_RESULTS = 10
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
TEXTS = {
    "en": {"title": "Help centre", "search": "Search", "placeholder": "Ask a question…",
           "suggested": "Suggested answer", "results": "Results for “{q}”", "none": "Nothing matches “{q}”.",
           "general": "General",
           "missing": "There is no help centre here.", "busy": "Too many requests; try again in a moment.",
           "all": "All questions", "language": "Language"},
    "zh": {"title": "帮助中心", "search": "搜索", "placeholder": "请输入您的问题…", "suggested": "推荐答案",
           "results": "“{q}”的搜索结果", "none": "没有找到与“{q}”相关的内容。", "general": "常见问题",
           "missing": "此帮助中心不存在。", "busy": "请求过多，请稍后再试。", "all": "全部问题", "language": "语言"},
}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


@dataclass(frozen=True)
class HelpPage:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=lambda: dict(HEADERS))


class HelpCentre:
    def __init__(self, tenants: TenantDirectory, stores: Callable[[str], KnowledgeStore], models: AssistantModels,
                 registry: PluginRegistry, limit: Callable[[str], None]) -> None:
        self._tenants = tenants
        self._stores = stores
        self._models = models
        self._registry = registry
        self._limit = limit

    def page(self, tenant_id: str, *, query: str | None = None, lang: str | None = None,
             accept_language: str = "") -> HelpPage:
        words = TEXTS[_ui_language(lang, accept_language)]
        try:
            tenant = self._tenants.get(tenant_id)
            if tenant.status != "active":
                raise NotFound("unknown tenant")
            self._limit(tenant_id)
            store = self._stores(tenant_id)
            articles = store.articles()
        except RateLimited as err:
            return HelpPage(429, _document(words["title"], f"<p>{_e(words['busy'])}</p>", "en"),
                            dict(HEADERS) | {"Retry-After": str(err.retry_after_seconds)})
        except (NotFound, ValueError):
            return HelpPage(404, _document(words["title"], f"<p>{_e(words['missing'])}</p>", "en"))
        if not articles:
            return HelpPage(404, _document(words["title"], f"<p>{_e(words['missing'])}</p>", "en"))
        languages = sorted({a.language for a in articles})
        language = pick_language(languages, lang, accept_language, tenant.settings.language)
        shown = [a for a in articles if a.language == language]
        words = TEXTS.get(language, TEXTS["en"])
        q = " ".join((query or "").split())[:MAX_QUERY]
        body = _header(tenant.name, words, q, language, languages)
        if q:
            body += self._search(tenant_id, q, language, shown, words)
        body += _faq(shown, {i.name: i for i in store.intents()}, words)
        return HelpPage(200, _document(f"{tenant.name} · {words['title']}", body, language))

    def _search(self, tenant_id: str, q: str, language: str, articles: list[Article], words: dict[str, str]) -> str:
        parts = []
        proposed = self._propose(tenant_id, q, language)
        if proposed is not None:
            parts.append(f'<section class="suggested"><h2>{_e(words["suggested"])}</h2>'
                         f"<p>{_text(proposed.text)}</p></section>")
        found = search(articles, q)[:MAX_RESULTS]
        if proposed is not None:
            found = [a for a in found if a.id != proposed.article_id]
        if found:
            items = "".join(_item(a) for a in found)
            parts.append(f'<section><h2>{_e(words["results"].format(q=q))}</h2>{items}</section>')
        elif proposed is None:
            parts.append(f"<p>{_e(words['none'].format(q=q))}</p>")
        return "".join(parts)

    def _propose(self, tenant_id: str, q: str, language: str) -> ProposedAnswer | None:
        """The assistant's answer when it is confident; ``None`` without one (or if it fails)."""
        try:
            model = self._models.current(tenant_id)
            if model is None:
                return None
            query = AssistantQuery(tenant_id=tenant_id, text=q, language=language, channel="help")
            classification = self._registry.classify(model.plugin, model.handle, query, model.config)
            top = classification.top
            if top is None or top.confidence < model.threshold:
                return None
            answer = self._registry.answer(model.plugin, model.handle, query, classification, model.config)
        except (SwitchboardError, ValueError, OSError):
            log.warning("help centre: the assistant could not answer", exc_info=True)
            return None
        return answer if answer is not None and answer.confidence >= model.threshold else None


def pick_language(available: list[str], asked: str | None, accept_language: str, tenant_language: str) -> str:
    """``?lang=``, else the best of ``Accept-Language``, else the tenant's, else the first available."""
    if asked in available:
        return str(asked)
    for wanted in _accepted(accept_language):
        if wanted in available:
            return wanted
    base = tenant_language.split("-")[0].lower()
    return base if base in available else available[0]


def search(articles: list[Article], q: str) -> list[Article]:
    """Articles whose questions or answer hold every word of ``q`` (case-insensitive), best first:
    those matching in a question before those matching only in the answer."""
    terms = q.casefold().split()

    def rank(article: Article) -> int:
        questions = " ".join(article.questions).casefold()
        if all(t in questions for t in terms):
            return 0
        return 1 if all(t in f"{questions} {article.answer.casefold()}" for t in terms) else 2

    ranked = sorted((rank(a), a.id) for a in articles)
    by_id = {a.id: a for a in articles}
    return [by_id[article_id] for score, article_id in ranked if score < 2]


def _accepted(header: str) -> list[str]:
    """Languages of an ``Accept-Language`` header, most wanted first (base codes: zh-CN → zh)."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def _ui_language(lang: str | None, accept_language: str) -> str:
    for wanted in [lang or "", *_accepted(accept_language)]:
        if wanted in TEXTS:
            return wanted
    return "en"


def _header(name: str, words: dict[str, str], q: str, language: str, languages: list[str]) -> str:
    switch = " · ".join(f'<a href="?lang={_e(code)}">{_e(LANGUAGE_NAMES.get(code, code))}</a>'
                        for code in languages if code != language)
    return (f"<header><h1>{_e(name)} · {_e(words['title'])}</h1>"
            f'<form method="get" role="search"><input type="hidden" name="lang" value="{_e(language)}">'
            f'<input type="search" name="q" value="{_e(q)}" maxlength="{MAX_QUERY}" '
            f'placeholder="{_e(words["placeholder"])}" aria-label="{_e(words["search"])}">'
            f'<button type="submit">{_e(words["search"])}</button></form>'
            + (f'<nav aria-label="{_e(words["language"])}">{switch}</nav>' if switch else "") + "</header>")


def _faq(articles: list[Article], intents: dict[str, Intent], words: dict[str, str]) -> str:
    def group(article: Article) -> str:
        if article.intent is None:
            return ""
        intent = intents.get(article.intent)
        return (intent.description if intent and intent.description else article.intent)

    ordered = sorted(articles, key=lambda a: (group(a) == "", group(a).casefold(), a.questions[0].casefold()))
    sections = []
    for title, members in groupby(ordered, key=group):
        items = "".join(_item(a) for a in members)
        sections.append(f"<section><h2>{_e(title or words['general'])}</h2>{items}</section>")
    return f'<main><h2 class="all">{_e(words["all"])}</h2>{"".join(sections)}</main>'


def _item(article: Article) -> str:
    return (f'<details id="{_e(article.id)}"><summary>{_e(article.questions[0])}</summary>'
            f"<p>{_text(article.answer)}</p></details>")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _text(text: str) -> str:
    """Escaped, its line breaks kept."""
    return "<br>".join(_e(line) for line in text.splitlines())


def _document(title: str, body: str, language: str) -> str:
    style = ("body{font-family:system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.5}"
             "form{display:flex;gap:.5em;margin:1em 0}input[type=search]{flex:1;padding:.5em;font-size:1em}"
             "button{padding:.5em 1em}details{border-bottom:1px solid #ddd;padding:.6em 0}"
             "summary{cursor:pointer;font-weight:600}.suggested{background:#eef6ff;padding:.5em 1em;"
             "border-radius:6px}h2{font-size:1.15em;margin-top:1.5em}h2.all{font-size:1.3em}")
    return (f'<!doctype html><html lang="{_e(language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{style}</style></head><body>{body}</body></html>")
