"""The console's Knowledge page in a real browser (Debian's chromium through Playwright)
against the local runtime: the demo agent (a tenant admin) opens Admin → Knowledge from the
menu, creates an FAQ article through the form, sees it listed and stored by the hub's
/v1/knowledge API, and sees the assistant model's card with the knowledge version the
article moved it to.

Without chromium the test skips with the reason, except in CI (``CI`` set), where it
fails: CI installs it (``make chromium``). Same launch and rules as tests/test_console_browser.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import local_runtime
from tools.local import browser as harness
from tools.local.console_static import DIST
from tools.local.demo import DemoTenant

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
UI_WAIT_MS = 20_000
MODEL_STATES = {"none", "queued", "training", "ready", "failed"}


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, DemoTenant, dict[str, str]]]:
    reason = harness.missing_browser()
    if reason is not None:
        if harness.in_ci():
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    if not (DIST / "index.html").is_file():
        pytest.fail("the console is not built (console/dist): make console")
    with local_runtime(tmp_path_factory.mktemp("state"), queue_workers=1) as (_, demo), \
            harness.browser(tmp_path_factory.mktemp("profile")) as context:
        page = context.new_page()
        page.set_default_timeout(UI_WAIT_MS)
        harness.sign_in(page, demo.hub_url, demo.agent_email, demo.agent_password)
        yield page, demo, harness.agent_token(demo.hub_url, demo.agent_email, demo.agent_password)


def api(demo: DemoTenant, auth: dict[str, str], path: str) -> Any:
    status, answer = harness.request(f"{demo.hub_url}{path}", None, auth, "GET")
    assert status == 200, (path, status, answer)
    return answer


def test_an_admin_creates_an_article_and_sees_the_model_card(
        signed_in: tuple[Page, DemoTenant, dict[str, str]]) -> None:
    page, demo, auth = signed_in
    article_id = f"parcel-{secrets.token_hex(3)}"
    question, answer = "Where is my parcel?", f"Track it from your account page ({article_id})."
    version_before = api(demo, auth, "/v1/knowledge/model")["knowledge_version"]

    page.goto(f"{demo.hub_url}/console/admin")
    page.get_by_test_id("admin-nav-knowledge").click()
    page.wait_for_url("**/console/admin/knowledge")
    page.get_by_test_id("knowledge-model").wait_for()

    page.get_by_test_id("article-new").click()
    form = page.get_by_test_id("article-form")
    form.get_by_test_id("article-id").fill(article_id)
    form.get_by_test_id("article-language").fill("en")
    form.get_by_test_id("article-questions").fill(f"{question}\nHas my parcel left?")
    form.get_by_test_id("article-answer").fill(answer)
    form.get_by_test_id("article-save").click()
    form.wait_for(state="detached")

    row = page.locator(f'[data-testid="article-row"][data-article-id="{article_id}"][data-language="en"]')
    row.wait_for()
    assert question in row.inner_text()
    stored = {(a["id"], a["language"]): a for a in api(demo, auth, "/v1/knowledge/articles?language=en")["items"]}
    assert stored[(article_id, "en")]["questions"] == [question, "Has my parcel left?"]
    assert stored[(article_id, "en")]["answer"] == answer

    card = page.get_by_test_id("knowledge-model")
    assert card.get_attribute("data-state") in MODEL_STATES
    assert card.get_by_test_id("model-state").inner_text().strip()
    # the card is read again after the write: it shows the version the article moved the base to
    shown = card.get_by_test_id("model-knowledge-version")
    page.wait_for_function("([el, before]) => Number(el.textContent) > before",
                           arg=[shown.element_handle(), version_before])
