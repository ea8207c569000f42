"""The widget's uploads, rate limits, CSAT and the assistant's buttons (chalicelib/widget) on moto."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from chalicelib.hub import Hub
from chalicelib.tenancy.ratelimit import RateLimiter
from chalicelib.workflow.surveys import Survey, survey_id_for
from tests.conftest import Pipeline, table_items
from tests.sealed_docs import opened_items
from tests.test_widget_support import Visitor, call, enable_widget, unlimited
from tools.local.demo import DemoTenant


@pytest.fixture
def widget(hub: Hub, demo: DemoTenant) -> str:
    enable_widget(hub, demo.tenant_id)
    unlimited(hub)
    return demo.tenant_id


def ticket_of(visitor: Visitor, pipeline: Pipeline, text: str = "Hello") -> str:
    visitor.say(text)
    pipeline.drain()
    return str(visitor.poll(pending=True)[1]["ticket_id"])


# -- uploads --------------------------------------------------------------------------------------


def upload(visitor: Visitor, filename: str, content_type: str, size: int) -> tuple[int, dict[str, object]]:
    response, body = call(visitor.hub, "uploads", visitor.tenant_id, token=visitor.token, ip=visitor.ip,
                          body={"filename": filename, "content_type": content_type, "size": size})
    return response.status_code, body


def test_an_upload_is_a_presigned_post_into_the_visitors_own_folder(hub: Hub, widget: str) -> None:
    visitor = Visitor.start(hub, widget)
    status, body = upload(visitor, "../../receipt 1.pdf", "application/pdf", 2048)
    assert status == 201, body
    key = str(body["key"])
    assert key.startswith(f"attachments/{widget}/widget/{visitor.claims.folder}/")
    assert key.endswith("/receipt_1.pdf")
    fields = body["fields"]
    assert isinstance(fields, dict)
    assert fields["Content-Type"] == "application/pdf"
    assert "retention-days" in fields["tagging"]
    assert fields["key"] == key


@pytest.mark.parametrize(("filename", "content_type", "size", "status"), [
    ("big.png", "image/png", 10 * 1024 * 1024 + 1, 413),
    ("run.exe", "application/x-msdownload", 100, 422),
    ("page.html", "text/html", 100, 422),
    ("empty.txt", "text/plain", 0, 422),
])
def test_oversized_and_wrong_type_uploads_are_refused(hub: Hub, widget: str, filename: str, content_type: str,
                                                      size: int, status: int) -> None:
    assert upload(Visitor.start(hub, widget), filename, content_type, size)[0] == status


def test_a_message_carries_an_uploaded_file_once_it_is_there(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    _, body = upload(visitor, "photo.png", "image/png", 4)
    key = str(body["key"])
    missing, _ = visitor.say("see attached", attachments=[key])
    assert missing.status_code == 422  # not uploaded yet
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=b"\x89PNG", ContentType="image/png")
    sent, _ = visitor.say("see attached", "c-2", attachments=[key])
    assert sent.status_code == 202
    pipeline.drain()
    [message] = visitor.poll(pending=True)[1]["messages"]
    assert message["attachments"] == [{"filename": "photo.png", "content_type": "image/png", "size_bytes": 4}]
    [stored] = [m for m in opened_items(hub, table_items(hub, "message")) if m["text"] == "see attached"]
    assert stored["attachments"][0]["url"] == f"s3://{hub.settings.bucket}/{key}"


def test_another_visitors_upload_or_a_swapped_type_is_refused(hub: Hub, widget: str) -> None:
    alice, mallory = Visitor.start(hub, widget), Visitor.start(hub, widget)
    key = str(upload(alice, "id.png", "image/png", 4)[1]["key"])
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=b"\x89PNG", ContentType="image/png")
    assert mallory.say("look", attachments=[key])[0].status_code == 422
    own = str(upload(mallory, "x.png", "image/png", 4)[1]["key"])
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=own, Body=b"<html>", ContentType="text/html")
    assert mallory.say("look", "c-3", attachments=[own])[0].status_code == 422


# -- rate limits ----------------------------------------------------------------------------------


def frozen_limits(hub: Hub, *, visitor_rate: float, ip_rate: float) -> None:
    """One rate window for the whole test, and the widget's rates (before hub.widget is built)."""
    frozen = hub.clock()
    hub.settings = replace(hub.settings, widget_visitor_rate=visitor_rate, widget_ip_rate=ip_rate)
    hub.__dict__["rate_limiter"] = RateLimiter(hub.aws.dynamodb, hub.settings.table_name, lambda: frozen)
    hub.__dict__.pop("widget", None)


def test_messages_are_limited_per_visitor_with_retry_after(hub: Hub, widget: str) -> None:
    frozen_limits(hub, visitor_rate=2, ip_rate=1000)
    visitor, other = Visitor.start(hub, widget), Visitor.start(hub, widget)
    statuses = [visitor.say("hi", f"c-{n}")[0].status_code for n in range(3)]
    assert statuses == [202, 202, 429]
    limited, body = visitor.say("hi", "c-9")
    assert body["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert other.say("hi")[0].status_code == 202  # someone else's budget is their own


def test_sessions_and_messages_are_limited_per_ip(hub: Hub, widget: str) -> None:
    frozen_limits(hub, visitor_rate=1000, ip_rate=3)
    statuses = [call(hub, "session", widget, ip="198.51.100.1")[0].status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert call(hub, "session", widget, ip="198.51.100.2")[0].status_code == 200
    visitor = Visitor.start(hub, widget, ip="198.51.100.3")
    statuses = [visitor.say("hi", f"c-{n}")[0].status_code for n in range(3)]
    assert statuses == [202, 202, 429]  # the session spent one of the address's three


# -- CSAT -------------------------------------------------------------------------------------------


def open_survey(hub: Hub, tenant_id: str, ticket_id: str) -> None:
    now = hub.clock()
    surveys = hub.survey_store.of(tenant_id)
    survey_id = survey_id_for(tenant_id, ticket_id, now.isoformat())
    assert surveys.schedule(Survey(tenant_id=tenant_id, ticket_id=ticket_id, survey_id=survey_id, state="scheduled",
                                   channel="widget", scheduled_at=now.isoformat(), send_after=now.isoformat()))
    assert surveys.mark_sent(ticket_id, survey_id, now, now + timedelta(days=7))


def test_csat_is_recorded_once_and_shown_in_the_poll(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    ticket_id = ticket_of(visitor, pipeline)
    assert call(hub, "csat", widget, token=visitor.token, body={"ticket_id": ticket_id, "score": 5})[0] \
        .status_code == 404  # no survey out yet
    open_survey(hub, widget, ticket_id)
    pipeline.drain()
    assert visitor.poll(pending=True)[1]["survey"] == {"state": "sent", "score": None}
    first, body = call(hub, "csat", widget, token=visitor.token, body={"ticket_id": ticket_id, "score": 4})
    again, _ = call(hub, "csat", widget, token=visitor.token, body={"ticket_id": ticket_id, "score": 1})
    assert (first.status_code, body["status"], again.status_code) == (200, "recorded", 409)
    assert hub.survey_store.of(widget).get(ticket_id).score == 4  # type: ignore[union-attr]
    assert len(table_items(hub, "csat")) == 1
    pipeline.drain()
    assert visitor.poll(pending=True)[1]["survey"] == {"state": "answered", "score": 4}


def test_nobody_answers_another_visitors_survey(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    alice, mallory = Visitor.start(hub, widget), Visitor.start(hub, widget)
    ticket_id = ticket_of(alice, pipeline)
    open_survey(hub, widget, ticket_id)
    response, _ = call(hub, "csat", widget, token=mallory.token, body={"ticket_id": ticket_id, "score": 1})
    assert response.status_code == 404


# -- the assistant's buttons ----------------------------------------------------------------------


@dataclass
class Responder:
    """The assistant's two calls as the contract names them, recorded."""

    calls: list[tuple[object, ...]] = field(default_factory=list)

    def feedback(self, tenant_id: str, ticket_id: str, reply_id: str, helpful: bool) -> None:
        self.calls.append(("feedback", tenant_id, ticket_id, reply_id, helpful))

    def hand_off(self, tenant_id: str, ticket_id: str, reason: str) -> None:
        self.calls.append(("hand_off", tenant_id, ticket_id, reason))


def test_feedback_and_hand_off_reach_the_assistant_for_the_visitors_own_ticket(hub: Hub, widget: str,
                                                                              pipeline: Pipeline) -> None:
    responder = Responder()
    hub.widget.actions.assistant = lambda tenant_id: responder
    visitor, mallory = Visitor.start(hub, widget), Visitor.start(hub, widget)
    ticket_id = ticket_of(visitor, pipeline, "How do I reset my password?")
    ticket = hub.store.tickets(widget).load(ticket_id)
    answer = hub.poster.post(ticket, "Go to Settings → Password.", author_id="assistant:faq", author_name="Assistant",
                             client_message_id="assistant-1")
    pipeline.drain()
    shown = visitor.poll(pending=True)[1]["messages"][-1]
    assert (shown["from"], shown["author"]) == ("assistant", "Assistant")
    asked = {"ticket_id": ticket_id, "reply_id": answer.id, "helpful": False}
    assert call(hub, "feedback", widget, token=mallory.token, body=asked)[0].status_code == 404
    assert call(hub, "feedback", widget, token=visitor.token, body=asked)[0].status_code == 200
    handed, body = call(hub, "handoff", widget, token=visitor.token, body={"ticket_id": ticket_id})
    assert (handed.status_code, body["status"]) == (200, "handed_off")
    assert responder.calls == [("feedback", widget, ticket_id, answer.id, False),
                               ("hand_off", widget, ticket_id, "the visitor asked for a person (widget)")]


def test_feedback_on_an_agents_reply_is_refused(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    hub.widget.actions.assistant = lambda tenant_id: Responder()
    visitor = Visitor.start(hub, widget)
    ticket_id = ticket_of(visitor, pipeline)
    ticket = hub.store.tickets(widget).load(ticket_id)
    reply = hub.poster.post(ticket, "Hi!", author_id="agent_1", author_name="Grace", client_message_id="a-1")
    asked = {"ticket_id": ticket_id, "reply_id": reply.id, "helpful": True}
    assert call(hub, "feedback", widget, token=visitor.token, body=asked)[0].status_code == 404


def test_without_an_assistant_the_ticket_is_with_people_already(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    ticket_id = ticket_of(visitor, pipeline)
    response, body = call(hub, "handoff", widget, token=visitor.token, body={"ticket_id": ticket_id})
    assert (response.status_code, body["status"]) == (200, "with_people")
