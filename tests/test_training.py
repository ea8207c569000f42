"""Training end to end on moto: a knowledge change sends a job, ``app.train_assistants``
(as Lambda calls it) trains with the tenant's enabled assistant plugin (a real, small
one: tests/test_knowledge_plugin.py), puts the model in S3 and swaps the pointer, and
``hub.assistant_models.current`` loads it. Stale jobs are skipped, failures recorded
(permanent ones once, passing ones retried), and a retrained model replaces the old
one atomically: readers hold the old or the new, never a mix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from switchboard_sdk import Unavailable
from switchboard_sdk.assistant import AssistantQuery

import app as app_module
from chalicelib.assistant.models_store import AssistantModels
from chalicelib.assistant.training import AssistantTrainer
from chalicelib.hub import Hub
from tests.conftest import bucket_keys
from tests.test_knowledge_api import RESET, call
from tests.test_knowledge_plugin import WordsAssistant
from tools.local.demo import DemoTenant

CARD = {"examples": ["Where is my card?", "my new card has not arrived", "card delivery is late"]}


def drain(hub: Hub) -> list[dict[str, Any]]:
    """Run every queued training job through app.train_assistants; the reports."""
    sqs, url = hub.aws.sqs, hub.settings.training_queue_url
    reports: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return reports
        records = [{"messageId": m["MessageId"], "body": m["Body"], "receiptHandle": m["ReceiptHandle"],
                    "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}} for m in messages]
        reports.append(app_module.train_assistants({"Records": records}, None))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])


@pytest.fixture
def words(hub: Hub, demo: DemoTenant) -> DemoTenant:
    """The demo tenant with the test assistant enabled."""
    hub.registry.add(WordsAssistant())
    hub.tenants.configure("demo", "words", enabled=True, config={})
    return demo


def seed(hub: Hub, key: str) -> None:
    hub.knowledge_api.put_article(call(key, RESET), "reset-password", "en")
    hub.knowledge_api.put_intent(call(key, CARD), "card_arrival")


def ask(hub: Hub, text: str) -> str | None:
    model = hub.assistant_models.current("demo")
    assert model is not None
    query = AssistantQuery(tenant_id="demo", text=text, language="en")
    top = hub.registry.classify(model.plugin, model.handle, query, model.config).top
    return top.intent if top else None


def test_a_change_trains_a_model_that_is_stored_swapped_in_and_loaded(hub: Hub, words: DemoTenant) -> None:
    assert hub.assistant_models.current("demo") is None  # enabled, nothing trained yet
    seed(hub, words.api_key)
    reports = drain(hub)
    assert reports == [{"batchItemFailures": []}, {"batchItemFailures": []}]  # version 1 skipped: the base moved on
    status = hub.knowledge_api.model_status(call(words.api_key))
    assert (status.state, status.knowledge_version, status.model_version, status.labels) == ("ready", 2, 2, 2)
    assert (status.threshold, status.effective_threshold, status.figures) == (0.5, 0.5, {"labels": 2.0})
    [key] = bucket_keys(hub, "models/demo/")
    assert key.startswith("models/demo/2-")
    assert key.endswith(".bin")
    assert len(key) == len("models/demo/2-") + 20
    hub.assistant_models.forget("demo")  # this container read "no model" a moment ago (kept 30 s)
    model = hub.assistant_models.current("demo")
    assert model is not None
    assert (model.plugin, model.version, model.threshold) == ("words", 2, 0.5)
    assert ask(hub, "how can I reset my password") == "account.password"
    assert ask(hub, "my card has not arrived") == "card_arrival"


def test_the_tenant_s_threshold_overrides_the_trained_one(hub: Hub, words: DemoTenant) -> None:
    seed(hub, words.api_key)
    drain(hub)
    hub.tenants.configure("demo", "words", enabled=None, config={"threshold": 0.8})
    hub.tenants.forget("demo")
    model = hub.assistant_models.current("demo")
    assert model is not None
    assert model.threshold == 0.8
    assert hub.knowledge_api.model_status(call(words.api_key)).effective_threshold == 0.8


def test_stale_jobs_are_skipped(hub: Hub, words: DemoTenant) -> None:
    seed(hub, words.api_key)
    drain(hub)
    trainer = hub.assistant_trainer
    assert trainer.train("demo", 1)  # older than the model: consumed, nothing done
    assert trainer.train("demo", 2)  # this version exists
    assert len(bucket_keys(hub, "models/demo/")) == 1
    hub.knowledge_api.put_intent(call(words.api_key, {"examples": ["refund please", "give my money back"]}), "refund")
    assert hub.knowledge_store("demo").meta().version == 3
    drain(hub)
    assert hub.model_records("demo").pointer().knowledge_version == 3  # type: ignore[union-attr]
    assert len(bucket_keys(hub, "models/demo/")) == 2


def test_failures_are_recorded_with_a_reason_and_not_retried(hub: Hub, demo: DemoTenant) -> None:
    hub.knowledge_api.put_article(call(demo.api_key, RESET), "reset-password", "en")
    assert drain(hub) == [{"batchItemFailures": []}]
    status = hub.knowledge_api.model_status(call(demo.api_key))
    assert (status.state, status.error) == ("failed", "no assistant plugin is enabled (switchboard plugins enable faq)")
    hub.registry.add(WordsAssistant())
    hub.tenants.configure("demo", "words", enabled=True, config={})
    hub.knowledge_api.train(call(demo.api_key))
    drain(hub)
    status = hub.knowledge_api.model_status(call(demo.api_key))
    assert status.state == "failed"
    assert status.error is not None
    assert "at least two" in status.error
    assert "Traceback" not in status.error
    assert bucket_keys(hub, "models/") == []


class FlakyS3:
    """S3 that is unavailable for its first ``failures`` puts (a passing outage)."""

    def __init__(self, s3: Any, failures: int) -> None:
        self._s3, self.failures = s3, failures

    def put_object(self, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise Unavailable("S3 is unavailable")
        return self._s3.put_object(**kwargs)


def test_a_passing_failure_is_reported_for_retry_and_then_succeeds(hub: Hub, words: DemoTenant) -> None:
    seed(hub, words.api_key)
    trainer = AssistantTrainer(hub.tenants, hub.registry, hub.knowledge_store, hub.model_records,
                               FlakyS3(hub.aws.s3, 1), hub.settings.bucket, hub.clock)
    record = {"messageId": "m1", "body": json.dumps({"tenant_id": "demo", "knowledge_version": 2})}
    assert trainer.process([record]) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert hub.model_records("demo").pointer() is None
    assert hub.model_records("demo").state().state == "training"  # type: ignore[union-attr]
    assert trainer.process([record]) == {"batchItemFailures": []}
    assert hub.model_records("demo").pointer().knowledge_version == 2  # type: ignore[union-attr]
    assert trainer.process([{"messageId": "m2", "body": "not json"}]) == {"batchItemFailures": []}


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_retraining_replaces_the_model_atomically(hub: Hub, words: DemoTenant) -> None:
    seed(hub, words.api_key)
    drain(hub)
    clock = Ticking()
    reader = AssistantModels(hub.tenants, hub.registry, hub.model_records, hub.aws.s3, hub.settings.bucket,
                             pointer_seconds=30, monotonic=clock)
    before = reader.current("demo")
    assert before is not None
    hub.knowledge_api.put_intent(call(words.api_key, {"examples": ["refund please", "money back"]}), "refund")
    drain(hub)
    # within the pointer's 30 s the reader keeps the whole old model; after, the whole new one
    still = reader.current("demo")
    assert still is not None
    assert (still.version, still.handle) == (2, before.handle)
    clock.now = 31.0
    after = reader.current("demo")
    assert after is not None
    assert after.version == 3
    assert after.pointer.object_key != before.pointer.object_key
    assert sorted(after.handle["bags"]) == ["account.password", "card_arrival", "refund"]  # type: ignore[index]
    assert sorted(before.handle["bags"]) == ["account.password", "card_arrival"]  # type: ignore[index]
    # the old object stays: a reader that read the old pointer still loads a whole model
    assert hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=before.pointer.object_key)["Body"].read()
    # an older model can never replace a newer one
    assert not hub.model_records("demo").swap(before.pointer)
    assert hub.model_records("demo").pointer().knowledge_version == 3  # type: ignore[union-attr]


def test_a_tenant_without_an_assistant_costs_no_call(hub: Hub, demo: DemoTenant) -> None:
    hub.tenants.get("demo")  # cached, as in a warm container
    calls: list[str] = []
    hub.aws.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    assert not hub.assistant_enabled("demo")
    assert hub.assistant_models.current("demo") is None
    assert calls == []
