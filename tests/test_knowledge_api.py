"""The knowledge API against moto (routes through Chalice's test client, and the class):
shapes, who may write, limits as 422s, the version and the audit record written with
every change, CSV and JSON import checked whole first, export, tenant isolation, and a
training job sent for every change."""

# ruff: noqa: RUF001  (Chinese texts)
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Forbidden, InvalidInput, NotFound

import app as app_module
from chalicelib.api.calls import ApiCall
from chalicelib.assistant.knowledge import MAX_EXAMPLES
from chalicelib.hub import Hub
from tests.test_api import other_tenant_key
from tests.test_knowledge_plugin import WordsAssistant
from tools.local.demo import DemoTenant

RESET = {"questions": ["How do I reset my password?", "  forgot my password  ", "How do I reset my password?"],
         "answer": "Open Settings → Security and choose Reset password.", "intent": "account.password"}


def call(key: str, body: Any = None, **query: str) -> ApiCall:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return ApiCall(authorization=f"Bearer {key}", body=raw, query=query)


def jobs(hub: Hub) -> list[dict[str, Any]]:
    """The training jobs sent (read and deleted)."""
    sqs, url = hub.aws.sqs, hub.settings.training_queue_url
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def request(method: str, path: str, key: str, body: Any = None, content_type: str = "application/json") -> Any:
    raw = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else \
        b"" if body is None else json.dumps(body).encode()
    with Client(app_module.app) as client:
        return client.http.request(method, path, body=raw,
                                   headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})


def test_articles_and_intents_over_http_each_change_versioned_audited_and_trained(hub: Hub, demo: DemoTenant) -> None:
    key = demo.api_key
    put = request("PUT", "/v1/knowledge/articles/reset-password/en", key, RESET)
    assert put.status_code == 200, put.body
    article = json.loads(put.body)
    assert article["questions"] == ["How do I reset my password?", "forgot my password"]  # trimmed, once each
    assert (article["id"], article["language"], article["intent"]) == ("reset-password", "en", "account.password")
    assert article["updated_at"]
    intent = request("PUT", "/v1/knowledge/intents/card_arrival", key, {"examples": ["Where is my card?"]})
    assert json.loads(intent.body)["examples"] == ["Where is my card?"]

    listed = json.loads(request("GET", "/v1/knowledge/articles?language=en", key).body)
    assert [a["id"] for a in listed["items"]] == ["reset-password"]
    assert json.loads(request("GET", "/v1/knowledge/articles?language=zh", key).body) == {"items": []}
    intents = json.loads(request("GET", "/v1/knowledge/intents", key).body)["items"]
    assert [(i["name"], i["example_count"], i["description"]) for i in intents] == [("card_arrival", 1, "")]
    assert [j["knowledge_version"] for j in jobs(hub)] == [1, 2]

    assert request("DELETE", "/v1/knowledge/intents/card_arrival", key).status_code == 204
    assert request("DELETE", "/v1/knowledge/intents/card_arrival", key).status_code == 404
    assert request("GET", "/v1/knowledge/intents/card_arrival", key).status_code == 404
    assert jobs(hub) == [{"tenant_id": "demo", "knowledge_version": 3}]
    actions = [r.action for r in hub.audit.list("demo", limit=20).records if r.action.startswith("knowledge")]
    assert actions == ["knowledge.intent.delete", "knowledge.intent.put", "knowledge.article.put"]
    assert hub.knowledge_store("demo").meta().version == 3


def test_readers_read_and_only_tenant_admins_write(hub: Hub, demo: DemoTenant) -> None:
    hub.knowledge_api.put_article(call(demo.api_key, RESET), "reset-password", "en")
    for scope in ("read-only", "agent"):
        reader = hub.api_keys.create("demo", [scope])[1]
        assert [a.id for a in hub.knowledge_api.list_articles(call(reader)).items] == ["reset-password"]
        with pytest.raises(Forbidden):
            hub.knowledge_api.put_article(call(reader, RESET), "other", "en")
        with pytest.raises(Forbidden):
            hub.knowledge_api.import_knowledge(call(reader, {"intents": []}))
        with pytest.raises(Forbidden):
            hub.knowledge_api.train(call(reader))
    assert request("GET", "/v1/knowledge/model", "sbk_nope_nope").status_code == 401


def test_bad_input_and_limits_are_422s_that_name_the_field(hub: Hub, demo: DemoTenant) -> None:
    api, key = hub.knowledge_api, demo.api_key
    cases = [({"questions": [], "answer": "x"}, "questions"), ({"questions": ["  "], "answer": "x"}, "questions"),
             ({"questions": ["q"], "answer": " "}, "answer"), ({"questions": ["q" * 501], "answer": "x"}, "questions"),
             ({"questions": ["q"] * 101, "answer": "x"}, "questions"), ({"questions": ["q"], "answer": "x",
                                                                          "intent": "bad intent"}, "intent")]
    for body, field in cases:
        with pytest.raises(InvalidInput) as refused:
            api.put_article(call(key, body), "a1", "en")
        assert any(field in f["field"] for f in refused.value.fields), (body, refused.value.fields)
    with pytest.raises(InvalidInput):
        api.put_article(call(key, RESET), "bad id!", "en")
    with pytest.raises(InvalidInput):
        api.put_article(call(key, RESET), "a1", "english")
    with pytest.raises(InvalidInput) as refused:
        api.put_intent(call(key, {"examples": [f"example {n}" for n in range(MAX_EXAMPLES + 1)]}), "big")
    assert refused.value.fields[0]["field"] == "examples"
    with pytest.raises(InvalidInput, match="300,000"):  # under 1000 examples, yet too large an item
        api.put_intent(call(key, {"examples": [f"{n} " + "字" * 480 for n in range(300)]}), "wide")
    assert hub.knowledge_store("demo").meta().version == 0
    assert jobs(hub) == []


def test_the_base_total_is_kept_with_the_version_and_enforced(hub: Hub, demo: DemoTenant) -> None:
    hub.settings = replace(hub.settings, api_rate=1000.0)  # 22 writes at once: more than 20/s of one tenant
    api, key = hub.knowledge_api, demo.api_key
    for n in range(20):
        api.put_intent(call(key, {"examples": [f"example {n} {m}" for m in range(1000)]}), f"intent{n}")
    meta = hub.knowledge_store("demo").meta()
    assert (meta.version, meta.intents, meta.examples) == (20, 20, 20_000)
    with pytest.raises(InvalidInput, match="20,000"):
        api.put_intent(call(key, {"examples": ["one more"]}), "intent20")
    api.put_intent(call(key, {"examples": ["fewer"]}), "intent0")  # replacing one lowers the total
    assert hub.knowledge_store("demo").meta().examples == 19_001


CSV_EXAMPLES = "text,category\nWhere is my card?,card_arrival\nmy card has not come,card_arrival\n" \
               "I was charged twice,double_charge\n"
CSV_ARTICLES = ("id,language,question,answer,intent\n"
                "reset-password,en,How do I reset my password?,Open Settings → Security.,account.password\n"
                "reset-password,en,I forgot my password,,\n"
                "reset-password,zh,如何重置密码？,打开 设置 → 安全。,account.password\n")


def test_import_csv_both_forms_then_json_with_replace_and_export(hub: Hub, demo: DemoTenant) -> None:
    key = demo.api_key
    answer = request("POST", "/v1/knowledge/import", key, CSV_EXAMPLES, "text/csv")
    assert json.loads(answer.body) == {"articles": 0, "intents": 2, "examples": 3, "knowledge_version": 1}
    report = hub.knowledge_api.import_knowledge(call(key, ("\ufeff" + CSV_ARTICLES).encode()))
    assert (report.articles, report.examples, report.knowledge_version) == (2, 3, 2)
    english = hub.knowledge_store("demo").article("reset-password", "en")
    assert english is not None
    assert english.questions == ["How do I reset my password?", "I forgot my password"]
    again = hub.knowledge_api.import_knowledge(call(key, CSV_ARTICLES.encode()))
    assert again.knowledge_version == 2  # nothing changed: no version, no job
    assert [j["knowledge_version"] for j in jobs(hub)] == [1, 2]

    exported = hub.knowledge_api.export_knowledge(call(key)).model_dump()
    assert [(a["id"], a["language"]) for a in exported["articles"]] == [("reset-password", "en"),
                                                                        ("reset-password", "zh")]
    assert [i["name"] for i in exported["intents"]] == ["card_arrival", "double_charge"]
    exported["intents"] = exported["intents"][:1]
    replaced = hub.knowledge_api.import_knowledge(call(key, exported | {"replace": True}))
    assert replaced.knowledge_version == 3
    assert [i.name for i in hub.knowledge_store("demo").intent_summaries()] == ["card_arrival"]
    meta = hub.knowledge_store("demo").meta()
    assert (meta.articles, meta.intents, meta.examples) == (2, 1, 5)


def test_a_bad_file_writes_nothing_and_names_its_rows(hub: Hub, demo: DemoTenant) -> None:
    api, key = hub.knowledge_api, demo.api_key
    with pytest.raises(InvalidInput, match="header"):
        api.import_knowledge(call(key, b"question,answer\nq,a\n"))
    with pytest.raises(InvalidInput, match="row 3"):
        api.import_knowledge(call(key, b"text,category\nfine,a\n,b\n"))
    with pytest.raises(InvalidInput, match="row 3"):
        api.import_knowledge(call(key, b"id,language,question,answer\na,en,q1,one\na,en,q2,two\n"))
    with pytest.raises(InvalidInput) as refused:
        api.import_knowledge(call(key, {"articles": [{"id": "x", "language": "en", "questions": ["q"],
                                                      "answer": ""}]}))
    assert refused.value.fields[0]["field"].startswith("articles[0].")
    with pytest.raises(InvalidInput, match="UTF-8"):
        api.import_knowledge(call(key, "text,category\nÉté,a\n".encode("latin-1")))
    big = "text,category\n" + "".join(f"example {n},c{n % 30}\n" for n in range(20_001))
    with pytest.raises(InvalidInput, match="20,000"):
        api.import_knowledge(call(key, big.encode()))
    assert hub.knowledge_store("demo").meta().version == 0
    assert jobs(hub) == []


def test_a_large_import_is_written_in_chunks_each_a_version(hub: Hub, demo: DemoTenant) -> None:
    rows = "".join(f"example {n} of {n % 60},c{n % 60}\n" for n in range(6000))
    report = hub.knowledge_api.import_knowledge(call(demo.api_key, ("text,category\n" + rows).encode()))
    assert (report.intents, report.examples) == (60, 6000)
    assert report.knowledge_version == 3  # 60 intents: chunks of 24
    assert jobs(hub) == [{"tenant_id": "demo", "knowledge_version": 3}]
    assert len(hub.knowledge_store("demo").load().intents) == 60


def test_tenant_a_never_reads_or_changes_tenant_b_s_base(hub: Hub, demo: DemoTenant) -> None:
    hub.knowledge_api.put_article(call(demo.api_key, RESET), "reset-password", "en")
    other = other_tenant_key(hub)
    assert hub.knowledge_api.list_articles(call(other)).items == []
    assert hub.knowledge_api.export_knowledge(call(other)).articles == []
    with pytest.raises(NotFound):
        hub.knowledge_api.delete_article(call(other), "reset-password", "en")
    hub.knowledge_api.put_article(call(other, RESET | {"answer": "theirs"}), "reset-password", "en")
    mine = hub.knowledge_store("demo").article("reset-password", "en")
    assert mine is not None
    assert mine.answer == RESET["answer"]
    assert hub.knowledge_store("other").load().articles[0].answer == "theirs"
    assert hub.knowledge_store("demo").meta().version == 1


def test_model_status_before_training_and_train_refuses_an_empty_base(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(WordsAssistant())
    status = hub.knowledge_api.model_status(call(demo.api_key)).model_dump()
    assert status == {"assistant": None, "state": "none", "knowledge_version": 0, "model_version": None,
                      "trained_at": None, "threshold": None, "effective_threshold": None, "labels": 0,
                      "figures": {}, "error": None}
    with pytest.raises(InvalidInput, match="empty"):
        hub.knowledge_api.train(call(demo.api_key))
    hub.knowledge_api.put_article(call(demo.api_key, RESET), "reset-password", "en")
    assert hub.knowledge_api.train(call(demo.api_key)).model_dump() == {"state": "queued", "knowledge_version": 1}
    assert hub.knowledge_api.model_status(call(demo.api_key)).state == "queued"


def test_an_assistant_plugin_is_listed_and_enabled_through_the_plugins_api(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(WordsAssistant())
    enabled = request("POST", "/v1/plugins/words/enable", demo.api_key)
    assert enabled.status_code == 200, enabled.body
    assert (json.loads(enabled.body)["kind"], json.loads(enabled.body)["enabled"]) == ("assistant", True)
    listed = json.loads(request("GET", "/v1/plugins", demo.api_key).body)["plugins"]
    assert {"name": "words", "kind": "assistant"}.items() <= next(p for p in listed if p["name"] == "words").items()
    assert hub.assistant_enabled("demo")
    assert hub.knowledge_api.model_status(call(demo.api_key)).assistant == "words"


def test_a_labelled_file_s_categories_become_intent_names_as_evaluate_reads_them() -> None:
    """BANKING77 has ``reverted_card_payment?``: the hub's import and ``switchboard assistant
    evaluate`` read it as the same intent (switchboard_sdk.assistant.intent_name)."""
    from chalicelib.assistant.knowledge_import import parse_csv

    parsed = parse_csv("text,category\nWhy was my payment reverted?,reverted_card_payment?\n"
                       "Payment reversed,reverted_card_payment?\n", replace=False)
    assert [(intent.name, intent.examples) for intent in parsed.intents] == [
        ("reverted_card_payment_", ["Why was my payment reverted?", "Payment reversed"])]
