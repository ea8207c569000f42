"""The assistant answering behind the stream, through the hub: the web channel's webhook,
the stream, the answering queue and function, the delivery worker — with a tiny
deterministic assistant plugin (tests/test_assistant_support.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import app as app_module
from chalicelib.agents.directory import Agent
from chalicelib.assistant.jobs import AssistantJobs
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.tenancy.audit import Actor
from tests.conftest import table_items
from tests.test_assistant_support import RESET_EN, RESET_ZH, Answering, answering, enable, install_model, wire
from tools.local.pumps import drain

__all__ = ["answering"]  # fixtures


def online_agent(hub: Hub, tenant_id: str, agent_id: str = "agt_on") -> str:
    now = iso(hub.clock())
    agent = Agent.model_validate({
        "id": agent_id, "username": agent_id, "tenant_id": tenant_id, "email": f"{agent_id}@demo.example",
        "name": agent_id, "role": "agent", "status": "active", "availability": "online", "group_ids": [],
        "capacity": 10, "created_at": now, "updated_at": now})
    audit = hub.audit.entry(tenant_id, Actor(key_id="setup"), "test.setup", f"agent/{agent_id}")[1]
    hub.agent_store.of(tenant_id).add_agent(agent, audit)
    return agent_id


def events(decisions: list[dict[str, Any]]) -> list[str]:
    return [str(d["event"]) for d in decisions]


def test_a_confident_answer_is_sent_and_the_ticket_stays_with_the_assistant(answering: Answering) -> None:
    answering.write("How do I reset my password?")
    ticket = answering.ticket()
    assert (ticket.status, ticket.assignee_id, ticket.category) == ("new", None, None)  # accept: not routed
    [reply] = answering.assistant_replies()
    assert (reply.text, reply.author_id, reply.author_name) == (RESET_EN, "assistant:tiny", "Assistant")
    # taken by the delivery worker through the web channel's send (the demo's web channel has no reply URL here)
    assert reply.status != "queued"
    [decision] = answering.decisions()
    assert decision["event"] == "assistant.answered"
    assert decision["actor"] == {"kind": "assistant", "id": "tiny", "name": "Assistant", "rule_chain": []}
    detail = decision["detail"]
    assert (detail["intent"], detail["article_id"], detail["reply_id"]) == ("account.password", "reset-password",
                                                                             reply.id)
    assert float(detail["confidence"]) >= float(detail["threshold"]) == 0.5
    assert ticket.first_response_at is None  # the assistant's reply is not an agent's first response


def test_chinese_is_answered_in_chinese(answering: Answering) -> None:
    answering.write("我忘记密码了")
    assert [r.text for r in answering.assistant_replies()] == [RESET_ZH]


def test_two_unsure_turns_in_a_row_hand_off_with_the_detected_intent(answering: Answering) -> None:
    agent = online_agent(answering.hub, answering.demo.tenant_id)
    answering.write("quantum flux capacitor warranty")
    assert events(answering.decisions()) == ["assistant.unsure"]
    [clarify] = answering.assistant_replies()
    assert "rephrase" in (clarify.text or "")
    assert answering.ticket().status == "new"
    answering.write("my card is strange")
    assert events(answering.decisions()) == ["assistant.unsure", "assistant.unsure", "assistant.handed_off"]
    handed = answering.decisions()[-1]
    assert handed["detail"]["reason"] == "two unhelpful answers in a row"
    ticket = answering.ticket()
    assert (ticket.status, ticket.category, ticket.assignee_id) == ("open", "card.arrival", agent)  # routed


@pytest.mark.parametrize("ask", ["Can I talk to an agent please?", "转人工", "我要人工客服", "a real person"])
def test_asking_for_a_person_hands_off_at_once_with_the_intent_found_before(answering: Answering, ask: str) -> None:
    agent = online_agent(answering.hub, answering.demo.tenant_id)
    answering.write("How do I reset my password?")
    answering.write(ask)
    assert events(answering.decisions()) == ["assistant.answered", "assistant.handed_off"]
    assert answering.decisions()[-1]["detail"]["reason"] == "asked for a person"
    ticket = answering.ticket()
    assert (ticket.status, ticket.category, ticket.assignee_id) == ("open", "account.password", agent)
    notice = answering.assistant_replies()[-1].text or ""
    assert ("转接" in notice) == ("人" in ask)  # the notice in the customer's language
    answering.write("hello?")  # people have it now: the assistant stays out
    assert len(answering.decisions()) == 2


def test_answers_that_did_not_help_twice_in_a_row_hand_off(answering: Answering) -> None:
    answering.write("How do I reset my password?")
    answering.write("that didn't help")
    assert events(answering.decisions())[-1] == "assistant.feedback"
    assert answering.assistant_replies()[-1].text.startswith("Sorry that didn't help")  # type: ignore[union-attr]
    assert answering.ticket().status == "new"
    answering.write("I forgot my password")
    answering.write("no")
    assert events(answering.decisions()) == ["assistant.answered", "assistant.feedback", "assistant.answered",
                                             "assistant.feedback", "assistant.handed_off"]
    assert answering.ticket().status == "open"


def test_a_helpful_answer_resets_the_strikes(answering: Answering) -> None:
    answering.write("gibberish words here")  # unsure: one strike
    answering.write("When will my card arrive?")  # answered, and the customer went on
    answering.write("zzz qqq")  # unsure again: one strike, not two
    assert events(answering.decisions()) == ["assistant.unsure", "assistant.answered", "assistant.unsure"]
    assert answering.ticket().status == "new"


def test_no_answer_is_sent_twice_when_the_stream_and_the_queue_deliver_twice(answering: Answering) -> None:
    answering.write("How do I reset my password?", drain_after=False)
    drain([answering.pipeline.stream])  # the stream only: the job waits in the queue
    assert len(answering.queued_jobs()) == 1
    for batch in list(answering.batches):  # the stream delivers its records again: a second job
        app_module.store_changes(batch, None)
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
               for m in answering.queued_jobs()]
    assert len(records) == 2
    for _ in range(2):  # and SQS delivers each job twice
        assert app_module.answer_customers({"Records": records}, None) == {"batchItemFailures": []}
    answering.drain()
    assert [r.text for r in answering.assistant_replies()] == [RESET_EN]
    assert events(answering.decisions()) == ["assistant.answered"]


def test_a_tenant_without_an_assistant_gets_no_answering_traffic(answering: Answering) -> None:
    hub, tenant_id = answering.hub, answering.demo.tenant_id
    tenant = hub.tenants.get(tenant_id)
    hub.tenants.put(tenant.model_copy(update={"plugins": {k: v for k, v in tenant.plugins.items() if k != "tiny"}}))
    hub.tenants.get(tenant_id)  # the cached record the stream reads
    hub.__dict__.pop("tenants", None)
    calls: list[str] = []
    for client in (hub.aws.sqs, hub.aws.dynamodb, hub.aws.s3):
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    image = {"type": "message", "direction": "inbound", "kind": "message", "text": "How do I reset my password?",
             "tenant_id": tenant_id, "ticket_id": "tkt_x", "id": "msg_x", "received_at": iso(hub.clock())}
    hub.tenants.get(tenant_id)
    calls.clear()
    jobs = hub.assistant_jobs
    jobs.begin()
    assert jobs.on_message(image) is False
    assert jobs.flush() == 0
    assert calls == []  # no AWS call at all for a tenant without an assistant
    answering.write("How do I reset my password?")
    assert answering.queued_jobs() == []
    assert answering.decisions() == []
    assert answering.ticket().status == "open"  # routed as always


def test_an_agents_reply_ends_holding(answering: Answering) -> None:
    answering.write("How do I reset my password?")
    ticket_id = answering.ticket_id()
    auth = {"authorization": f"Bearer {answering.demo.api_key}", "content-type": "application/json"}
    answer = answering.client.http.post(f"/v1/tickets/{ticket_id}/messages", headers=auth,
                                        body=json.dumps({"text": "Hi, I'm Ada from support."}))
    assert answer.status_code == 202, answer.body
    answering.drain()
    assert answering.ticket().status == "open"
    answering.write("gibberish")
    assert events(answering.decisions()) == ["assistant.answered"]  # the agent has it: no more decisions


def test_a_dead_lettered_job_releases_its_ticket(answering: Answering) -> None:
    answering.write("How do I reset my password?", drain_after=False)
    drain([answering.pipeline.stream])
    [job] = answering.queued_jobs()
    record = {"messageId": job["MessageId"], "receiptHandle": job["ReceiptHandle"], "body": job["Body"]}
    assert app_module.assistant_dead_letters({"Records": [record]}, None) == {"batchItemFailures": []}
    ticket = answering.ticket()
    assert ticket.status == "open"
    [handed] = answering.decisions()
    assert (handed["event"], handed["detail"]["reason"]) == ("assistant.handed_off", "assistant unavailable")


def test_the_widgets_buttons(answering: Answering) -> None:
    answering.write("How do I reset my password?")
    responder, tenant_id = answering.hub.assistant_responder, answering.demo.tenant_id
    [reply] = answering.assistant_replies()
    responder.feedback(tenant_id, answering.ticket_id(), reply.id, True)
    responder.feedback(tenant_id, answering.ticket_id(), reply.id, True)  # a double click
    assert events(answering.decisions()) == ["assistant.answered", "assistant.feedback"]
    assert answering.ticket().status == "solved"  # solved by the assistant


def test_the_widgets_talk_to_a_person_button(answering: Answering) -> None:
    answering.write("When will my card arrive?")
    answering.hub.assistant_responder.hand_off(answering.demo.tenant_id, answering.ticket_id(), "asked for a person")
    ticket = answering.ticket()
    assert (ticket.status, ticket.category) == ("open", "card.arrival")


class RefusingSqs:
    """SQS that takes no job this time (throttled)."""

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        return {"Failed": [{"Id": e["Id"], "Code": "ThrottlingException", "SenderFault": False} for e in Entries]}


def test_jobs_not_queued_retry_the_stream_batch(answering: Answering) -> None:
    answering.write("How do I reset my password?", drain_after=False)
    drain([answering.pipeline.stream])
    batch = next(b for b in answering.batches
                 if any(r["dynamodb"]["NewImage"].get("type", {}).get("S") == "message" for r in b["Records"]))
    hub = answering.hub
    wire(hub, jobs=AssistantJobs(RefusingSqs(), answering.queue_url, hub.assistant_enabled))
    first = batch["Records"][0]["dynamodb"]["SequenceNumber"]
    assert hub.stream.process(batch["Records"]) == {"batchItemFailures": [{"itemIdentifier": first}]}


def test_a_job_without_a_model_releases_its_ticket_to_people(answering: Answering) -> None:
    from chalicelib.assistant.handoff import Voice
    from chalicelib.assistant.responder import AssistantResponder

    hub = answering.hub
    agent = online_agent(hub, answering.demo.tenant_id)
    answering.write("How do I reset my password?", drain_after=False)
    drain([answering.pipeline.stream])  # held by the stream while the model was there
    assert answering.ticket().status == "new"
    gone = AssistantResponder(hub.store, hub.workflow, hub.workflow_engine, Voice(hub.poster), hub.registry,
                              lambda tenant_id: None, hub.tenant_language, hub.clock)
    [job] = answering.queued_jobs()
    assert gone.process([{"messageId": job["MessageId"], "body": job["Body"]}]) == {"batchItemFailures": []}
    ticket = answering.ticket()
    assert (ticket.status, ticket.assignee_id) == ("open", agent)
    assert [d["detail"]["reason"] for d in answering.decisions()] == ["assistant unavailable"]


def test_the_built_in_faq_assistant_answers_and_hands_off_in_both_languages(answering: Answering) -> None:
    """The same flow with the real ``faq`` plugin (H2's), trained on the tiny knowledge base."""
    hub, tenant_id = answering.hub, answering.demo.tenant_id
    tenant = hub.tenants.get(tenant_id)
    hub.tenants.put(tenant.model_copy(update={"plugins": {k: v for k, v in tenant.plugins.items() if k != "tiny"}}))
    enable(hub, tenant_id, "faq", threshold=0.3)
    install_model(hub, tenant_id, "faq", version=2)
    answering.write("How do I reset my password?")
    answering.write("我忘记密码了", visitor="v-zh")
    answering.write("转人工", visitor="v-zh")
    replies = [m.text for t in table_items(hub, "ticket") for m in answering.assistant_replies(str(t["ticket_id"]))]
    assert RESET_EN in replies
    assert RESET_ZH in replies
    statuses = sorted(str(t["status"]) for t in table_items(hub, "ticket"))
    assert statuses == ["new", "open"]  # the Chinese customer asked for a person
