"""Survey answers by one-click link (``/csat/{token}``), and a ticket's survey (``/v1``).

The link is public: its HMAC signature is the authority (:func:`verify_link`), and it
names the tenant, ticket, survey and score. A link answers in two steps, so mail
scanners do not answer for the customer: Outlook Safe Links, Gmail, Mimecast and chat
unfurlers fetch (GET) every link in a message, which would record the first of the
five scores they fetch. ``GET`` therefore records nothing: it answers a page whose
form posts the score back at once (one click for a person; a scanner that runs no
script stops there), with a button when scripts are off. ``POST`` records the score,
and with a ``comment`` field adds the customer's words (the thank-you page offers a box).

Both answer HTML pages, or JSON when the caller's ``Accept`` prefers it. An expired
or malformed link is 400, a forged one 403, a survey no longer open 409 — each a clear
page, nothing recorded.
"""

# ruff: noqa: RUF001  (the pages' Chinese texts)
from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from switchboard_sdk import BadPayload, Conflict, NotFound, SwitchboardError

from ..tenancy.workflow_settings import SurveySettings
from ..workflow.csat import MAX_COMMENT, CsatAnswer
from ..workflow.surveys import LINK_PREFIX, LinkClaims, Survey, SurveyStore, verify_link
from .access import READ_SCOPES, Access, ApiCall

MAX_FORM_BYTES = 16 * 1024
_SUBMIT = "document.getElementById('answer').submit();"
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SUBMIT.encode()).digest()).decode()
_PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
}
_TEXTS = {
    "en": {"title": "Thank you", "thanks": "Thank you! We recorded your answer: {stars}.",
           "again": "You already answered this survey ({stars}). Thank you!",
           "added": "Thank you, we added your comment.", "more": "Anything to add?", "send": "Send",
           "record": "Recording your answer: {stars}…", "confirm": "Confirm",
           "error": "This link cannot be used", "closed": "This survey is closed."},
    "zh": {"title": "感谢您的评价", "thanks": "感谢您的评价！已记录：{stars}。",
           "again": "您已评价过本次服务（{stars}），谢谢！", "added": "谢谢，已收到您的补充意见。",
           "more": "还有想补充的吗？", "send": "提交", "record": "正在提交您的评分：{stars}…", "confirm": "确认",
           "error": "此链接无法使用", "closed": "此评价已关闭。"},
}


@dataclass(frozen=True)
class PageAnswer:
    """A response the edge sends as it is (the lead maps it to a Chalice ``Response``)."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class SurveyApi:
    def __init__(self, access: Access, store: SurveyStore, signing_key: Callable[[], bytes],
                 settings_of: Callable[[str], SurveySettings], clock: Callable[[], datetime]) -> None:
        self._access = access
        self._store = store
        self._signing_key = signing_key  # read when a link comes (it is made on first use)
        self._settings_of = settings_of
        self._clock = clock

    # -- /v1 -----------------------------------------------------------------------

    def get_survey(self, call: ApiCall, ticket_id: str) -> Survey:
        """``GET /v1/tickets/{ticket_id}/survey``: the ticket's survey and its answer."""
        caller = self._access.tenant(call, READ_SCOPES)
        survey = self._store.of(caller.tenant_id).get(ticket_id)
        if survey is None:
            raise NotFound("this ticket has no survey")
        return survey

    # -- /csat/{token} (public) ------------------------------------------------------

    def open_link(self, call: ApiCall, token: str, accept: str = "") -> PageAnswer:
        """``GET``: check the link and answer the page that posts it; records nothing."""
        try:
            claims = verify_link(token, self._signing_key(), self._clock())
        except SwitchboardError as err:
            return _error(err, accept, "en")
        survey = self._store.of(claims.tenant_id).get(claims.ticket_id)
        language = _language(survey)
        if _wants_json(accept):
            state = survey.state if survey and survey.survey_id == claims.survey_id else None
            return _json({"score": claims.score, "state": state, "answer_with": "POST"}, 200)
        words = _TEXTS[language]
        action = html.escape(LINK_PREFIX + token)
        body = (f"<p>{html.escape(words['record'].format(stars=_stars(claims.score)))}</p>"
                f'<form id="answer" method="post" action="{action}"><button type="submit">'
                f"{html.escape(words['confirm'])}</button></form><script>{_SUBMIT}</script>")
        return _page(200, words["title"], body, language)

    def answer_link(self, call: ApiCall, token: str, accept: str = "") -> PageAnswer:
        """``POST``: record the link's score (once), or add the ``comment`` the form sends."""
        try:
            claims = verify_link(token, self._signing_key(), self._clock())
            comment = _comment_field(call.body)
        except SwitchboardError as err:
            return _error(err, accept, "en")
        surveys = self._store.of(claims.tenant_id)
        outcome = surveys.record_answer(claims.ticket_id, claims.survey_id, CsatAnswer(claims.score, comment),
                                        self._clock(), via="link")
        survey = surveys.get(claims.ticket_id)
        language = _language(survey)
        if outcome == "recorded":
            return self._answered(claims, survey, "thanks", accept, token, language, offer=comment is None)
        if outcome == "already_answered" and survey is not None:
            if comment is not None and self._comment_open(survey) and surveys.add_comment(survey, comment):
                return self._answered(claims, survey, "added", accept, token, language, offer=False)
            return self._answered(claims, survey, "again", accept, token, language, offer=False)
        refusal = NotFound("no such survey") if outcome == "missing" else Conflict("this survey is closed")
        return _error(refusal, accept, language)

    def _comment_open(self, survey: Survey) -> bool:
        if survey.answered_at is None:
            return False
        hours = self._settings_of(survey.tenant_id).comment_window_hours
        answered = datetime.fromisoformat(survey.answered_at.replace("Z", "+00:00"))
        return self._clock() < answered + timedelta(hours=hours)

    def _answered(self, claims: LinkClaims, survey: Survey | None, what: str, accept: str, token: str,
                  language: str, *, offer: bool) -> PageAnswer:
        score = survey.score if survey and survey.score else claims.score
        if _wants_json(accept):
            return _json({"recorded": what == "thanks", "score": score, "comment_added": what == "added"}, 200)
        words = _TEXTS[language]
        body = f"<p>{html.escape(words[what].format(stars=_stars(score)))}</p>"
        if offer:
            body += (f'<form method="post" action="{html.escape(LINK_PREFIX + token)}"><label>'
                     f"{html.escape(words['more'])}<br><textarea name=\"comment\" maxlength=\"{MAX_COMMENT}\" "
                     f'rows="4" cols="40"></textarea></label><br><button type="submit">'
                     f"{html.escape(words['send'])}</button></form>")
        return _page(200, words["title"], body, language)


def _comment_field(body: bytes) -> str | None:
    """The ``comment`` of the page's form (``application/x-www-form-urlencoded``) or of a
    JSON object (a script's ``{"comment": ...}``), if any; an empty body just confirms."""
    if len(body) > MAX_FORM_BYTES:
        raise BadPayload("the form is too large")
    try:
        if body.lstrip().startswith(b"{"):
            value = json.loads(body).get("comment") or ""
            if not isinstance(value, str):
                raise BadPayload("comment must be text")
            text = value.strip()
        else:
            text = (parse_qs(body.decode("utf-8"), max_num_fields=5).get("comment") or [""])[0].strip()
    except (UnicodeDecodeError, ValueError, AttributeError) as err:
        raise BadPayload("the form could not be read") from err
    return text[:MAX_COMMENT] or None


def _language(survey: Survey | None) -> str:
    return "zh" if survey and (survey.language or "").lower().startswith("zh") else "en"


def _wants_json(accept: str) -> bool:
    lowered = accept.lower()
    return "application/json" in lowered and "text/html" not in lowered


def _stars(score: int) -> str:
    return "★" * score + "☆" * (5 - score)


def _json(body: dict[str, object], status: int) -> PageAnswer:
    return PageAnswer(status, json.dumps(body), {"Content-Type": "application/json", "Cache-Control": "no-store"})


def _error(err: SwitchboardError, accept: str, language: str) -> PageAnswer:
    if _wants_json(accept):
        return _json(dict(err.to_body()), err.status)
    words = _TEXTS[language]
    heading = words["closed"] if isinstance(err, Conflict) else words["error"]
    return _page(err.status, heading, f"<p>{html.escape(heading)}</p><p>{html.escape(str(err))}</p>", language)


def _page(status: int, title: str, body: str, language: str) -> PageAnswer:
    document = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:32em;"
                f"margin:3em auto;padding:0 1em}}</style></head><body>{body}</body></html>")
    return PageAnswer(status, document, dict(_PAGE_HEADERS))
