
"""Surveys: channel windows, settings and texts, signed links, the survey's item and
its transitions (against moto), and the one-click link API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from switchboard_sdk import BadPayload, Forbidden, NotFound, SwitchboardError

from chalicelib.api.calls import ApiCall
from chalicelib.api.surveys import SurveyApi
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.tenancy.workflow_settings import SurveySettings
from chalicelib.workflow.csat import CsatAnswer
from chalicelib.workflow.surveys import (
    Survey,
    Surveys,
    SurveyStore,
    compose_survey,
    is_opt_out,
    link_for,
    link_token,
    link_urls,
    survey_id_for,
    verify_link,
    window_check,
)
from tools.local.demo import DemoTenant

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"hub-signing-key-for-tests-0123456789"
TICKET = "tkt_abcdefghijklmnopqrstuvwxyz"


# -- windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "ago", "sub", "text", "sendable"), [
    ("wechat", timedelta(hours=1), None, None, True),
    ("wechat", timedelta(hours=47, minutes=50), None, None, True),
    ("wechat", timedelta(hours=47, minutes=56), None, None, False),  # inside the margin
    ("wechat", timedelta(hours=49), None, None, False),
    ("web", timedelta(hours=23), None, None, True),
    ("web", timedelta(hours=25), None, None, False),
    ("twilio", timedelta(days=30), "sms", "thanks", True),
    ("twilio", timedelta(minutes=5), "sms", "STOP", False),
    ("twilio", timedelta(minutes=5), "sms", " unsubscribe. ", False),
    ("twilio", timedelta(minutes=5), "sms", "退订", False),
    ("twilio", timedelta(minutes=5), "sms", "START", True),
    ("twilio", timedelta(minutes=5), "sms", "please stop calling me at work", True),
    ("twilio", timedelta(hours=23), "whatsapp", None, True),
    ("twilio", timedelta(hours=25), "whatsapp", None, False),
    ("email", timedelta(days=90), None, None, True),
    ("widget", timedelta(days=30), None, None, True),  # the visitor sees it when they next open the chat
    ("webhook", timedelta(minutes=1), None, None, False),
])
def test_windows(channel: str, ago: timedelta, sub: str | None, text: str | None, sendable: bool) -> None:
    reason = window_check(channel, NOW - ago, NOW, last_customer_text=text, sub_channel=sub)
    assert (reason is None) is sendable, reason


def test_a_window_needs_a_customer_message() -> None:
    assert "no message" in (window_check("wechat", None, NOW) or "")
    assert window_check("email", None, NOW) is None
    assert "opted out" in (window_check("twilio", NOW, NOW, last_customer_text="Stop") or "")
    assert is_opt_out("STOPALL")
    assert not is_opt_out("stop it")


# -- settings and texts ------------------------------------------------------------------


def test_settings_defaults_and_languages() -> None:
    settings = SurveySettings()
    assert (settings.delay_minutes, settings.expires_hours, settings.follow_up_threshold) == (60, 72, 2)
    assert settings.follow_up_sla_hours == 24
    assert "1 (poor)" in settings.text_for("en")
    assert settings.text_for("zh-CN").startswith("请为本次服务评分")
    assert settings.text_for("fr") == settings.text_for("en")
    assert settings.text_for(None) == settings.text_for("en")
    only_pt = SurveySettings(texts={"pt-BR": "Nota de 1 a 5?"})
    assert only_pt.text_for("zh") == "Nota de 1 a 5?"


@pytest.mark.parametrize("bad", [
    {"surprise": True}, {"texts": {}}, {"texts": {"EN GB": "x"}}, {"texts": {"en": ""}},
    {"delay_minutes": -1}, {"follow_up_threshold": 5}, {"expires_hours": 0},
])
def test_settings_refuse(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SurveySettings.model_validate(bad)


def test_compose_per_channel() -> None:
    settings = SurveySettings()
    links = link_urls("https://hub.example.com/", "demo", TICKET, "svy_1", KEY, NOW + timedelta(hours=72))
    email = compose_survey(settings, "en", "email", links)
    assert email.startswith(settings.text_for("en"))
    assert all(url in email for url in links)
    assert "https://hub.example.com/csat/" in email
    assert "5 ★★★★★" in email
    assert compose_survey(settings, "zh", "wechat", links) == settings.text_for("zh")  # no links on WeChat
    assert compose_survey(settings, "en", "twilio") == settings.text_for("en")
    with pytest.raises(ValueError, match="five"):
        compose_survey(settings, "en", "web", links[:2])


# -- links ------------------------------------------------------------------------------------


def test_link_round_trip() -> None:
    expiry = NOW + timedelta(hours=72)
    path = link_for("demo", TICKET, "svy_1", 4, KEY, expiry)
    assert path.startswith("/csat/")
    claims = verify_link(path.removeprefix("/csat/"), KEY, NOW)
    assert (claims.tenant_id, claims.ticket_id, claims.survey_id, claims.score) == ("demo", TICKET, "svy_1", 4)
    assert claims.expires_at == expiry


def test_expired_link() -> None:
    token = link_token("demo", TICKET, "svy_1", 4, KEY, NOW)
    with pytest.raises(BadPayload, match="expired"):
        verify_link(token, KEY, NOW)


def _swap(token: str, old: str, new: str) -> str:
    from chalicelib.workflow.surveys import _b64, _unb64

    payload, _, mac = token.partition(".")
    return f"{_b64(_unb64(payload).replace(old.encode(), new.encode()))}.{mac}"


def test_forged_links() -> None:
    token = link_token("demo", TICKET, "svy_1", 4, KEY, NOW + timedelta(hours=1))
    with pytest.raises(Forbidden):
        verify_link(_swap(token, "|4|", "|1|"), KEY, NOW)  # another score
    with pytest.raises(Forbidden):
        verify_link(_swap(token, "|demo|", "|acme|"), KEY, NOW)  # another tenant's survey
    with pytest.raises(Forbidden):
        verify_link(token, b"another-hub-key-0123456789abcdef", NOW)
    other_tenant = link_token("acme", TICKET, "svy_1", 4, KEY, NOW + timedelta(hours=1))
    assert other_tenant.split(".")[1] != token.split(".")[1]  # per-tenant keys sign differently
    assert verify_link(other_tenant, KEY, NOW).tenant_id == "acme"  # answers only acme's survey


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!.!!", "x" * 401, "YWJj.YWJj", "1|demo.abc"])
def test_malformed_links(token: str) -> None:
    with pytest.raises(BadPayload):
        verify_link(token, KEY, NOW)


# -- the survey's item (moto) ------------------------------------------------------------------


def _surveys(hub: Hub, tenant_id: str = "demo") -> Surveys:
    return SurveyStore(hub.aws.dynamodb, hub.settings.table_name).of(tenant_id)


def _scheduled(ticket_id: str = TICKET, tenant_id: str = "demo", channel: str = "email") -> Survey:
    return Survey(tenant_id=tenant_id, ticket_id=ticket_id, survey_id=survey_id_for(tenant_id, ticket_id, iso(NOW)),
                  state="scheduled", channel=channel, language="en", agent_id="agent-1",
                  scheduled_at=iso(NOW), send_after=iso(NOW + timedelta(hours=1)))


def test_sent_once_answered_once(hub: Hub, demo: DemoTenant) -> None:
    surveys, survey = _surveys(hub), _scheduled()
    assert surveys.schedule(survey)
    assert not surveys.schedule(survey)  # one survey per ticket
    assert surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(5), NOW, via="reply") != "recorded"
    sent_at = NOW + timedelta(hours=1)
    assert surveys.mark_sent(TICKET, survey.survey_id, sent_at, sent_at + timedelta(hours=72), "msg_1")
    assert not surveys.mark_sent(TICKET, survey.survey_id, sent_at, sent_at + timedelta(hours=72))
    assert not surveys.mark_not_sent(TICKET, survey.survey_id, "too late", sent_at)
    assert not surveys.schedule(survey.model_copy(update={"survey_id": "svy_other"}))  # sent: not again
    answered_at = sent_at + timedelta(hours=2)
    first = surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(2, "slow"), answered_at, via="reply",
                                  reply_message_id="msg_in_1")
    assert first == "recorded"
    again = surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(5), answered_at + timedelta(minutes=1),
                                  via="link")
    assert again == "already_answered"
    stored = surveys.get(TICKET)
    assert stored is not None
    assert (stored.state, stored.score, stored.comment, stored.answered_via) == ("answered", 2, "slow", "reply")
    assert (stored.survey_message_id, stored.reply_message_id) == ("msg_1", "msg_in_1")
    rows = surveys.answers(NOW, NOW + timedelta(days=1))
    assert [(r["ticket_id"], r["score"], r["agent_id"], r["channel"]) for r in rows] == [
        (TICKET, 2, "agent-1", "email")]
    assert surveys.add_comment(stored, "and nobody called back")
    assert not surveys.add_comment(stored, "stale read")  # the comment changed since
    assert surveys.answers(NOW, NOW + timedelta(days=1))[0]["comment"] == "slow\nand nobody called back"
    assert _surveys(hub).get(TICKET).comment == "slow\nand nobody called back"  # type: ignore[union-attr]


def test_not_sent_keeps_the_reason_and_may_be_scheduled_again(hub: Hub, demo: DemoTenant) -> None:
    surveys, survey = _surveys(hub), _scheduled(channel="wechat")
    assert surveys.schedule(survey)
    assert not surveys.mark_not_sent(TICKET, "svy_wrong", "x", NOW)
    assert surveys.mark_not_sent(TICKET, survey.survey_id, "wechat: the 48-hour window has closed", NOW)
    assert not surveys.mark_sent(TICKET, survey.survey_id, NOW, NOW + timedelta(hours=1))
    stored = surveys.get(TICKET)
    assert stored is not None
    assert (stored.state, stored.not_sent_reason) == ("not_sent", "wechat: the 48-hour window has closed")
    assert surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(4), NOW, via="reply") == "closed"
    later = survey.model_copy(update={"survey_id": "svy_later"})
    assert surveys.schedule(later)
    assert surveys.get(TICKET).survey_id == "svy_later"  # type: ignore[union-attr]
    assert surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(4), NOW, via="reply") == "missing"


def test_answers_close_at_the_deadline(hub: Hub, demo: DemoTenant) -> None:
    surveys, survey = _surveys(hub), _scheduled()
    surveys.schedule(survey)
    surveys.mark_sent(TICKET, survey.survey_id, NOW, NOW + timedelta(hours=72))
    late = NOW + timedelta(hours=72)
    assert surveys.record_answer(TICKET, survey.survey_id, CsatAnswer(4), late, via="reply") == "closed"
    assert surveys.answers(NOW, late + timedelta(days=1)) == []


def test_tenants_do_not_share_surveys(hub: Hub, demo: DemoTenant) -> None:
    survey = _scheduled()
    assert _surveys(hub).schedule(survey)
    assert _surveys(hub, "acme").get(TICKET) is None
    with pytest.raises(PermissionError):
        _surveys(hub, "acme").schedule(survey)


# -- the link API -------------------------------------------------------------------------------


def _api(hub: Hub, now: datetime) -> SurveyApi:
    store = SurveyStore(hub.aws.dynamodb, hub.settings.table_name)
    return SurveyApi(hub.access, store, lambda: KEY, lambda tenant_id: SurveySettings(), lambda: now)


def _sent(hub: Hub) -> Survey:
    surveys, survey = _surveys(hub), _scheduled()
    surveys.schedule(survey)
    surveys.mark_sent(TICKET, survey.survey_id, NOW, NOW + timedelta(hours=72))
    return survey


def test_link_get_records_nothing_and_post_records(hub: Hub, demo: DemoTenant) -> None:
    survey, api = _sent(hub), _api(hub, NOW + timedelta(hours=1))
    token = link_token("demo", TICKET, survey.survey_id, 4, KEY, NOW + timedelta(hours=72))
    page = api.open_link(ApiCall(), token)
    assert page.status == 200
    assert 'method="post"' in page.body
    assert "script-src 'sha256-" in \
        page.headers["Content-Security-Policy"]
    assert _surveys(hub).get(TICKET).state == "sent"  # type: ignore[union-attr]
    answered = api.answer_link(ApiCall(), token)
    assert answered.status == 200
    assert "★★★★☆" in answered.body
    assert 'name="comment"' in answered.body
    assert _surveys(hub).get(TICKET).score == 4  # type: ignore[union-attr]
    with_comment = api.answer_link(ApiCall(body=b"comment=The+agent+was+great"), token)
    assert "added your comment" in with_comment.body
    other = link_token("demo", TICKET, survey.survey_id, 1, KEY, NOW + timedelta(hours=72))
    again = api.answer_link(ApiCall(), other, accept="application/json")
    assert json.loads(again.body) == {"recorded": False, "score": 4, "comment_added": False}
    stored = _surveys(hub).get(TICKET)
    assert stored is not None
    assert (stored.score, stored.comment, stored.answered_via) == (4, "The agent was great",
                                                                                            "link")


def test_a_script_may_post_the_comment_as_json(hub: Hub, demo: DemoTenant) -> None:
    survey, api = _sent(hub), _api(hub, NOW + timedelta(hours=1))
    token = link_token("demo", TICKET, survey.survey_id, 2, KEY, NOW + timedelta(hours=72))
    answered = api.answer_link(ApiCall(body=b'{"comment": " Too slow "}'), token, accept="application/json")
    assert json.loads(answered.body)["recorded"] is True
    stored = _surveys(hub).get(TICKET)
    assert stored is not None
    assert (stored.score, stored.comment) == (2, "Too slow")
    refused = api.answer_link(ApiCall(body=b'{"comment": 5}'), token, accept="application/json")
    assert (refused.status, json.loads(refused.body)["error"]["code"]) == (400, "bad_payload")
    assert api.answer_link(ApiCall(body=b'{"comment": '), token).status == 400


def test_link_refusals_record_nothing(hub: Hub, demo: DemoTenant) -> None:
    survey, api = _sent(hub), _api(hub, NOW + timedelta(hours=1))
    expired = link_token("demo", TICKET, survey.survey_id, 5, KEY, NOW)
    assert api.answer_link(ApiCall(), expired).status == 400
    forged = _swap(link_token("demo", TICKET, survey.survey_id, 5, KEY, NOW + timedelta(hours=9)), "|5|", "|1|")
    page = api.answer_link(ApiCall(), forged)
    assert page.status == 403
    assert "cannot be used" in page.body
    assert json.loads(api.answer_link(ApiCall(), forged, "application/json").body)["error"]["code"] == "forbidden"
    assert api.open_link(ApiCall(), "garbage").status == 400
    unknown = link_token("demo", "tkt_unknown", "svy_x", 5, KEY, NOW + timedelta(hours=9))
    assert api.answer_link(ApiCall(), unknown).status == 404
    assert _surveys(hub).get(TICKET).state == "sent"  # type: ignore[union-attr]
    assert api.answer_link(ApiCall(body=b"x" * 20_000), link_token("demo", TICKET, survey.survey_id, 5, KEY,
                                                                   NOW + timedelta(hours=9))).status == 400


def test_get_survey_needs_a_key_of_the_tenant(hub: Hub, demo: DemoTenant) -> None:
    _sent(hub)
    api = _api(hub, NOW)
    survey = api.get_survey(ApiCall(authorization=f"Bearer {demo.api_key}"), TICKET)
    assert survey.state == "sent"
    with pytest.raises(NotFound):
        api.get_survey(ApiCall(authorization=f"Bearer {demo.api_key}"), "tkt_none")
    with pytest.raises(SwitchboardError) as refused:
        api.get_survey(ApiCall(), TICKET)
    assert refused.value.status == 401
