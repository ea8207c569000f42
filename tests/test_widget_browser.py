"""The web chat widget in a real browser (Debian's chromium through Playwright), embedded in the
local runtime's sample shop page, which is served on a second loopback port (another origin
than the hub: CORS and the origin allow-list at work). A visitor opens the widget and writes;
the message reaches the hub (the tickets API shows it); an agent's reply (through the API)
appears in the widget; a reload keeps the conversation and the open chat. With the demo
knowledge base trained, the assistant answers "How do I reset my password?" in the widget and
"Talk to a person" hands the ticket to people (open, with its intent as category).

One runtime and one browser for the module. Without chromium the tests skip with the reason,
except in CI (``CI`` set), where they fail: CI installs it (``make chromium``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.widget.script import BUILT
from tests.helpers import local_runtime, wait_for
from tools.local import browser as harness
from tools.local.demo import DemoTenant

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
UI_WAIT_MS = 20_000  # the widget polls every 2.5 s while open; the stream and worker pumps run behind


@dataclass
class Shop:
    demo: DemoTenant
    context: BrowserContext
    auth: dict[str, str]

    @property
    def page_url(self) -> str:
        return str(self.demo.channels["widget"]["host_page"])

    def api(self, path: str, body: Any = None) -> Any:
        status, answer = harness.request(f"{self.demo.hub_url}{path}", body, self.auth)
        assert status < 300, (path, status, answer)
        return answer

    def ticket_with(self, text: str) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for ticket in self.api("/v1/tickets?channel=widget")["tickets"]:
                detail = self.api(f"/v1/tickets/{ticket['id']}")
                if any(m["text"] == text for m in detail["messages"]):
                    return dict(detail["ticket"])
            return None

        return dict(wait_for(find, f"the widget ticket of {text!r}"))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    reason = harness.missing_browser()
    if reason is not None:
        if harness.in_ci():
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    if not BUILT.is_file():
        pytest.fail("the widget is not built (chalicelib/widget/static/widget.js): make widget")
    with local_runtime(tmp_path_factory.mktemp("state"), queue_workers=1) as (_, demo), \
            harness.browser(tmp_path_factory.mktemp("profile")) as context:
        yield Shop(demo, context, {"Authorization": f"Bearer {demo.api_key}"})


def open_chat(shop: Shop, query: str = "") -> Page:
    page = shop.context.new_page()
    page.set_default_timeout(UI_WAIT_MS)
    page.goto(shop.page_url + query)
    launcher = page.get_by_test_id("sbw-launcher")
    launcher.wait_for()  # drawn with the panel, open or closed as the visitor left it (localStorage)
    if launcher.get_attribute("aria-expanded") != "true":
        launcher.click()
    page.get_by_test_id("sbw-panel").wait_for()
    return page


def write(page: Page, text: str) -> None:
    page.get_by_test_id("sbw-input").fill(text)
    page.get_by_test_id("sbw-send").click()


def bubble(page: Page, sender: str, text: str) -> Any:
    return page.locator(f'[data-from="{sender}"]', has_text=text)


def test_a_visitor_and_an_agent_talk_through_the_widget_across_a_reload(shop: Shop) -> None:
    assert shop.page_url.split(":")[2] != shop.demo.hub_url.split(":")[2]  # two origins: the page's, the hub's
    page = open_chat(shop)
    write(page, "Hello from the shop page")
    ticket = shop.ticket_with("Hello from the shop page")  # it reached the hub through ingestion
    assert ticket["channel"] == "widget"
    bubble(page, "visitor", "Hello from the shop page").wait_for()
    shop.api(f"/v1/tickets/{ticket['id']}/messages", {"text": "Hi! Grace here, how can I help?"})
    bubble(page, "agent", "Grace here").wait_for()
    page.reload()
    page.get_by_test_id("sbw-panel").wait_for()  # still open after the reload
    bubble(page, "visitor", "Hello from the shop page").wait_for()
    bubble(page, "agent", "Grace here").wait_for()
    replies = [m for m in shop.api(f"/v1/tickets/{ticket['id']}")["messages"] if m["direction"] == "outbound"]
    assert wait_for(lambda: all(m["status"] == "read" for m in
                                shop.api(f"/v1/tickets/{ticket['id']}")["messages"] if m["direction"] == "outbound"),
                    "the reply to be marked read", timeout=30)
    assert replies


def test_the_assistant_answers_and_hands_off_to_a_person(shop: Shop) -> None:
    state = wait_for(lambda: (m := shop.api("/v1/knowledge/model"))["state"] in ("ready", "failed") and m,
                     "the demo knowledge base's model", timeout=180)
    assert state["state"] == "ready", state
    page = open_chat(shop, "?user=ada")
    write(page, "How do I reset my password?")
    bubble(page, "assistant", "").first.wait_for(timeout=60_000)
    ticket = shop.ticket_with("How do I reset my password?")
    page.get_by_test_id("sbw-person").click()
    handed = wait_for(lambda: (t := shop.api(f"/v1/tickets/{ticket['id']}")["ticket"])["status"] == "open" and t,
                      "the ticket handed to people", timeout=60)
    assert handed["category"]
