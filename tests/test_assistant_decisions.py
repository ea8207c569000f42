# ruff: noqa: RUF001  (Chinese messages)
"""The assistant's rules on words and on its past decisions (pure), and the stream's
answering hook: a passing failure to queue retries the batch, a tenant without an
assistant is never asked about."""

from __future__ import annotations

from typing import Any

import pytest
from switchboard_sdk import Unavailable

from chalicelib.assistant.decisions import asks_for_person, says_unhelpful, strikes
from chalicelib.assistant.jobs import AssistantJobs, is_customer_message


@pytest.mark.parametrize("text", ["转人工", "我要人工客服", "找真人", "客服在吗", "Agent!", "talk to a human please",
                                  "Can I speak to a real person?", "representative", "I need an operator",
                                  "ＡＧＥＮＴ"])
def test_asking_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", ["How do I reset my password?", "人工智能能做什么", "my reagent order", "humanity",
                                  "我忘记密码了"])
def test_not_asking_for_a_person(text: str) -> None:
    assert not asks_for_person(text)


def test_the_tenants_own_phrases_are_whole_words_in_english() -> None:
    assert asks_for_person("escalate please", ["escalate"])
    assert not asks_for_person("de-escalated", ["escalate"])
    assert asks_for_person("我要投诉", ["投诉"])


@pytest.mark.parametrize("text", ["no", "No.", "nope", "that didn't help", "That did not help at all", "not helpful",
                                  "没用", "没有帮助", "不对", "这不是我要的，答非所问"])
def test_the_previous_answer_did_not_help(text: str) -> None:
    assert says_unhelpful(text)


@pytest.mark.parametrize("text", ["no problem, it worked", "How do I know?", "When will my card arrive?", "好的谢谢"])
def test_a_message_that_is_not_a_complaint(text: str) -> None:
    assert not says_unhelpful(text)


def d(event: str, message: str, **detail: Any) -> dict[str, Any]:
    return {"event": event, "cause": f"assistant:{message}:{event.split('.')[1]}", "detail": detail}


def test_strikes_count_unhelpful_turns_in_a_row() -> None:
    unsure, answered = d("assistant.unsure", "m1"), d("assistant.answered", "m2")
    complaint = d("assistant.feedback", "m3", helpful=False)
    assert strikes([]) == 0
    assert strikes([unsure]) == 1
    assert strikes([unsure, answered]) == 0  # the customer went on from an answer
    assert strikes([unsure, answered, complaint]) == 2  # that answer did not help: its turn is the strike
    assert strikes([answered, complaint, d("assistant.answered", "m4")], complaining=True) == 1
    assert strikes([unsure, d("assistant.feedback", "r1", helpful=True), d("assistant.unsure", "m5")]) == 1
    assert strikes([unsure, d("assistant.unsure", "m6")], skip_message="m6") == 1  # its own decision left out
    assert strikes([{"event": "sla_warning", "cause": "sla"}, unsure]) == 1  # other entries are not decisions


class Sqs:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.batches = fail, []  # type: ignore[var-annotated]

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        self.batches.append(Entries)
        return {"Failed": [{"Id": e["Id"], "Code": "ServiceUnavailable"} for e in Entries]} if self.fail else {}


def image(n: int, tenant: str = "acme", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "direction": "inbound", "kind": "message", "text": "hi", "tenant_id": tenant,
            "ticket_id": "tkt_1", "id": f"msg_{n}", "received_at": "2026-12-07T10:00:00+00:00"} | extra


def test_jobs_are_sent_ten_at_a_time_once_each_and_only_for_customers_messages() -> None:
    asked: list[str] = []
    sqs = Sqs()
    jobs = AssistantJobs(sqs, "q", lambda tenant: asked.append(tenant) is None and tenant == "acme")
    jobs.begin()
    for n in range(12):
        jobs.on_message(image(n))
    jobs.on_message(image(0))  # a record delivered twice in the batch
    assert not jobs.on_message(image(20, tenant="other"))  # no assistant
    for skipped in ({"direction": "outbound"}, {"internal": True}, {"moved_from": "tkt_0"}, {"kind": "bounce"},
                    {"text": ""}):
        assert not is_customer_message(image(30, **skipped))
    assert jobs.flush() == 12
    assert [len(batch) for batch in sqs.batches] == [10, 2]


def test_jobs_sqs_did_not_take_are_a_passing_failure() -> None:
    jobs = AssistantJobs(Sqs(fail=True), "q", lambda tenant: True)
    jobs.begin()
    jobs.on_message(image(1))
    with pytest.raises(Unavailable):
        jobs.flush()
