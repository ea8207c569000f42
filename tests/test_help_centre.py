# ruff: noqa: RUF001  (Chinese texts)
"""The public help centre over HTTP (Chalice's test client, moto): the FAQ grouped in the
language asked for, everything escaped under a script-free CSP, search with the model's
confident answer first, 404 for unknown tenants and tenants without a base, and the
tenant's rate."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

import app as app_module
from chalicelib.assistant.help_centre import HelpCentre
from chalicelib.hub import Hub
from chalicelib.tenancy.ratelimit import RateLimiter
from tests.test_knowledge_api import call
from tests.test_knowledge_plugin import WordsAssistant
from tests.test_training import drain
from tools.local.demo import DemoTenant
from tools.local.demo_knowledge import ARTICLES, INTENTS

EVIL = "<script>alert(1)</script>"


def page(path: str, **headers: str) -> Any:
    with Client(app_module.app) as client:
        return client.http.get(path, headers=headers)


def seed(hub: Hub, demo: DemoTenant) -> None:
    body = {"articles": ARTICLES, "intents": INTENTS}
    hub.knowledge_api.import_knowledge(call(demo.api_key, body))


def test_the_faq_in_the_language_asked_for_grouped_under_a_strict_csp(hub: Hub, demo: DemoTenant) -> None:
    seed(hub, demo)
    english = page("/help/demo")
    assert english.status_code == 200
    assert english.headers["Content-Type"].startswith("text/html")
    csp = english.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script" not in english.body.decode()
    text = english.body.decode()
    assert "How do I reset my password?" in text
    assert "如何重置密码" not in text
    assert '<html lang="en">' in text
    assert text.count("<details") == len(ARTICLES) // 2
    chinese = page("/help/demo?lang=zh").body.decode()
    assert "如何重置密码？" in chinese
    assert "帮助中心" in chinese
    assert page("/help/demo", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).body.decode().count("如何重置密码") == 1
    assert "How do I reset" in page("/help/demo?lang=fr", **{"Accept-Language": "fr, en;q=0.5"}).body.decode()


def test_everything_is_escaped(hub: Hub, demo: DemoTenant) -> None:
    hub.tenants.update("demo", lambda t: t.model_copy(update={"name": f"Acme {EVIL}"}))
    hub.tenants.forget("demo")
    hub.knowledge_api.put_article(call(demo.api_key, {"questions": [f"Is {EVIL} safe?"], "answer": f'a "{EVIL}"\nb',
                                                      "intent": "x"}), "evil", "en")
    hub.knowledge_api.put_intent(call(demo.api_key, {"description": f"Group {EVIL}", "examples": ["e"]}), "x")
    text = page("/help/demo?q=" + "%3Cscript%3E").body.decode()
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Group &lt;script&gt;" in text
    assert "<br>" in text  # the answer's line break kept


def test_search_finds_questions_and_answers(hub: Hub, demo: DemoTenant) -> None:
    seed(hub, demo)
    text = page("/help/demo?q=refund").body.decode()
    assert "Results for “refund”" in text
    results = text.split("Results for")[1].split("All questions")[0]
    assert "How do I get a refund?" in results
    assert "reset" not in results
    chinese = page("/help/demo?lang=zh&q=退款").body.decode()
    assert "如何申请退款？" in chinese.split("搜索结果")[1].split("全部问题")[0]
    nothing = page("/help/demo?q=zebra+crossing").body.decode()
    assert "Nothing matches “zebra crossing”." in nothing


def test_search_puts_the_model_s_confident_answer_first(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(WordsAssistant())
    hub.tenants.configure("demo", "words", enabled=True, config={})
    seed(hub, demo)
    drain(hub)
    hub.assistant_models.forget("demo")
    text = page("/help/demo?q=I+forgot+my+password").body.decode()
    assert "Suggested answer" in text
    suggested = text.split("Suggested answer")[1].split("</section>")[0]
    assert "Forgot password?" in suggested
    unsure = page("/help/demo?q=zebra").body.decode()
    assert "Suggested answer" not in unsure


def test_unknown_tenants_and_tenants_without_a_base_get_the_same_404(hub: Hub, demo: DemoTenant) -> None:
    for path in ("/help/demo", "/help/nobody", "/help/NOT%20valid"):
        answer = page(path)
        assert answer.status_code == 404, path
        assert "There is no help centre here." in answer.body.decode()
        assert "Demo Company" not in answer.body.decode()


def test_the_page_spends_the_tenant_s_rate(hub: Hub, demo: DemoTenant) -> None:
    seed(hub, demo)
    moment = hub.clock()
    limiter = RateLimiter(hub.aws.dynamodb, hub.settings.table_name, lambda: moment)  # time stands still
    centre = HelpCentre(hub.tenants, hub.knowledge_store, hub.assistant_models, hub.registry,
                        limit=lambda tenant_id: limiter.check(tenant_id, "help", 2.0))
    answers = [centre.page("demo") for _ in range(30)]
    assert answers[0].status == 200
    refused = [a for a in answers if a.status == 429]
    assert refused
    assert int(refused[0].headers["Retry-After"]) >= 1
