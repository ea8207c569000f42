# ruff: noqa: RUF001  (Chinese articles and messages)
"""Shared by the answering tests: a tiny deterministic assistant plugin, a demo tenant with
it enabled and a model trained and in place, the answering queue and its pumps, and the
hub's stream and engine wired with the assistant's hooks (no tests here)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import CONTRACT_VERSION, PluginInfo, hookimpl
from switchboard_sdk.assistant import (
    AssistantConfig,
    AssistantQuery,
    Classification,
    FaqArticle,
    IntentScore,
    KnowledgeBase,
    ProposedAnswer,
    TrainedModel,
)

import app as app_module
from chalicelib.assistant.training_state import ModelPointer
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tools.local.demo import DemoTenant
from tools.local.pumps import QueuePump, StreamPump, drain

CJK = re.compile(r"[\u4e00-\u9fff]")
RESET_EN = "To reset your password, open Settings → Security and choose 'Reset password'."
RESET_ZH = "重置密码：打开“设置 → 安全”，选择“重置密码”。"
ARTICLES = [
    FaqArticle(id="reset-password", language="en", intent="account.password",
               questions=["How do I reset my password?", "I forgot my password"], answer=RESET_EN),
    FaqArticle(id="reset-password", language="zh", intent="account.password",
               questions=["如何重置密码？", "我忘记密码了"], answer=RESET_ZH),
    FaqArticle(id="card-arrival", language="en", intent="card.arrival",
               questions=["When will my card arrive?", "my card has not arrived"], answer="Cards arrive in 5 days."),
]


class TinyConfig(AssistantConfig):
    pass


def tokens(text: str) -> set[str]:
    """Words for Latin text, single characters for Chinese."""
    lowered = text.lower()
    return set(re.findall(r"[a-z0-9]+", lowered)) | set(CJK.findall(lowered))


class TinyAssistant:
    """Jaccard overlap with the articles' questions: deterministic, no dependencies."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="tiny", kind="assistant", config_model=TinyConfig, contract_version=CONTRACT_VERSION)

    @hookimpl
    def switchboard_assistant_train(self, knowledge: KnowledgeBase, config: TinyConfig) -> TrainedModel:
        data = json.dumps([a.model_dump() for a in knowledge.articles], sort_keys=True).encode()
        return TrainedModel(data=data, threshold=0.5, labels=sorted({a.label for a in knowledge.articles}))

    @hookimpl
    def switchboard_assistant_load(self, data: bytes, config: TinyConfig) -> object:
        return [FaqArticle.model_validate(a) for a in json.loads(data)]

    @hookimpl
    def switchboard_assistant_classify(self, model: Any, query: AssistantQuery, config: TinyConfig) -> Classification:
        words, scores = tokens(query.text), {}
        for article in model:
            for question in article.questions:
                known = tokens(question)
                score = len(words & known) / len(words | known) if words | known else 0.0
                scores[article.label] = max(scores.get(article.label, 0.0), score)
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))[:5]
        return Classification(intents=[IntentScore(intent=i, confidence=round(c, 4)) for i, c in ranked],
                              language="zh" if CJK.search(query.text) else "en")

    @hookimpl
    def switchboard_assistant_answer(self, model: Any, query: AssistantQuery, classification: Classification,
                                     config: TinyConfig) -> ProposedAnswer | None:
        top = classification.top
        found = [a for a in model if top is not None and a.label == top.intent]
        if top is None or not found:
            return None
        article = next((a for a in found if a.language == classification.language), found[0])
        return ProposedAnswer(text=article.answer, article_id=article.id, confidence=top.confidence,
                              language=article.language)


def install_model(hub: Hub, tenant_id: str, plugin: str = "tiny", version: int = 1) -> None:
    """Train on :data:`ARTICLES` and point the tenant at the model (what the trainer does)."""
    config = hub.tenants.plugin_config(hub.tenants.get(tenant_id), plugin)
    trained = hub.registry.train(plugin, KnowledgeBase(tenant_id=tenant_id, version=version, articles=ARTICLES),
                                 config)
    key = f"models/{tenant_id}/{plugin}-{version}.bin"
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=trained.data)
    pointer = ModelPointer(plugin=plugin, knowledge_version=version, object_key=key,
                           sha256=hashlib.sha256(trained.data).hexdigest(), threshold=trained.threshold,
                           labels=len(trained.labels), trained_at=hub.clock().isoformat(), size=len(trained.data))
    assert hub.model_records(tenant_id).swap(pointer)
    hub.assistant_models.forget(tenant_id)


def enable(hub: Hub, tenant_id: str, plugin: str = "tiny", **config: Any) -> None:
    tenant = hub.tenants.get(tenant_id)
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {plugin: PluginSetting(config=config)}}))


def wire(hub: Hub, jobs: Any = None) -> None:
    """Rebuild the stream's assistant hooks after a test changed the hub's settings (the hub
    builds ``assistant_jobs`` and ``stream`` once); ``jobs`` replaces the queueing hook."""
    for name in ("assistant_jobs", "stream"):
        hub.__dict__.pop(name, None)
    if jobs is not None:
        hub.__dict__["assistant_jobs"] = jobs


@dataclass
class Answering:
    """The demo tenant with the tiny assistant, and everything behind the stream."""

    hub: Hub
    demo: DemoTenant
    client: Client
    pipeline: Pipeline
    queue_url: str
    dlq_url: str
    answers: QueuePump
    batches: list[dict[str, Any]]  # the stream batches handled (to deliver them again)
    sent: int = 0

    def drain(self) -> None:
        drain([self.pipeline.stream, self.pipeline.queue, self.answers])

    def write(self, text: str, visitor: str = "v-42", *, drain_after: bool = True) -> None:
        self.sent += 1
        body = web_message(text, client_id=f"c-{self.sent}", visitor_id=visitor, email=f"{visitor}@example.com")
        answer = self.client.http.post(f"/hooks/{self.demo.tenant_id}/web", body=body,
                                       headers=signed_web_headers(self.demo.web_secret, body, msg_id=f"wh_{self.sent}"))
        assert answer.status_code == 202, answer.body
        if drain_after:
            self.drain()

    def ticket_id(self) -> str:
        """The one ticket there is."""
        [ticket] = table_items(self.hub, "ticket")
        return str(ticket["ticket_id"])

    def ticket(self, ticket_id: str | None = None) -> Any:
        return self.hub.store.tickets(self.demo.tenant_id).load(ticket_id or self.ticket_id())

    def decisions(self, ticket_id: str | None = None) -> list[dict[str, Any]]:
        history = self.hub.store.tickets(self.demo.tenant_id).history(ticket_id or self.ticket_id())
        return [e for e in history if str(e.get("event", "")).startswith("assistant.")]

    def assistant_replies(self, ticket_id: str | None = None) -> list[Any]:
        _, messages = self.hub.store.reads(self.demo.tenant_id).get_ticket(ticket_id or self.ticket_id())
        return [m for m in messages if (m.author_id or "").startswith("assistant:")]

    def queued_jobs(self) -> list[dict[str, Any]]:
        got = self.hub.aws.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return list(got.get("Messages", []))


def queue(hub: Hub, name: str) -> tuple[str, str]:
    url = hub.aws.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = hub.aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


@pytest.fixture
def answering(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> Iterator[Answering]:
    hub.registry.add(TinyAssistant())
    url, arn = queue(hub, "assistant-test")
    dlq_url, _ = queue(hub, "assistant-test-dead-letters")
    hub.settings = replace(hub.settings, assistant_queue_url=url)
    enable(hub, demo.tenant_id)
    install_model(hub, demo.tenant_id)
    wire(hub)
    batches: list[dict[str, Any]] = []

    def recorded(event: dict[str, Any], context: Any) -> Any:
        batches.append(event)
        return app_module.store_changes(event, context)

    stream = StreamPump(hub.aws.client("dynamodbstreams"), _stream_arn(hub), recorded)
    stream._positions.update(pipeline.stream._positions)
    pumps = Pipeline(stream, pipeline.queue, pipeline.dlq_url, pipeline.sqs)
    with Client(app_module.app) as client:
        yield Answering(hub, demo, client, pumps, url, dlq_url, QueuePump(hub.aws.sqs, url, arn,
                                                                          app_module.answer_customers), batches)


def _stream_arn(hub: Hub) -> str:
    table = hub.aws.dynamodb.describe_table(TableName=hub.settings.table_name)["Table"]
    return str(table["LatestStreamArn"])
