"""Screenshots of the console for the README: ``make screenshots`` (→ docs/images/).

Starts the local runtime ``make run`` starts, seeds the demo tenant with a morning's work
(customers writing on the web chat, SMS, WeChat and email; the demo agent answering some
with a template, solving a few), signs in as the demo agent in Debian's chromium and
saves the inbox, a ticket's view, the dashboard and the flow picture as PNGs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
import uuid
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from switchboard_sdk import standard_webhooks

from tools.local import browser, samples
from tools.local.demo import DemoTenant
from tools.local.runtime import LocalRuntime, free_port

CUSTOMERS = [  # (channel, who, what they write), oldest first
    ("web", "Ada Lovelace <ada@example.com>", "Hello, my order #1042 has not arrived yet."),
    ("sms", "+14155550142", "Where is my parcel? Tracking says delivered."),
    ("wechat", "oShotUser1", "你好, 我的订单什么时候发货?"),
    ("email", "Grace Hopper <grace@example.com>", "The invoice for order 77 shows the wrong address."),
    ("web", "Linus Torvalds <linus@example.com>", "Can I change the size of the shoes I ordered?"),
    ("sms", "+14155550177", "Refund for order 5521 please, it came broken."),
    ("wechat", "oShotUser2", "退货流程是怎样的?"),
    ("web", "Margaret Hamilton <margaret@example.com>", "Is there a discount for a second purchase?"),
    ("email", "Alan Turing <alan@example.com>", "Please cancel my subscription from next month."),
    ("web", "Katherine Johnson <katherine@example.com>", "The app shows my order twice, was I charged twice?"),
]
# what the demo agent does with each ticket, newest first (the rest stay waiting)
WORK = ["reply", "assign", "solve", "reply", "pending", "solve", "assign", "solve"]
TEMPLATE = ("parcel", 'Hi {{customer.name | default: "there"}}, {{agent.name}} here: your parcel leaves the '
                      "warehouse today (ticket {{ticket.ref}}).")
WAIT_MS = 20_000


def _post(sample: samples.Sample) -> None:
    sent = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(sent, timeout=10):  # noqa: S310 - the hub on loopback
        pass


def _web(demo: DemoTenant, who: str, text: str) -> samples.Sample:
    """A web-chat message from a named visitor, signed as the web channel's widget signs it."""
    name, address = parseaddr(who)
    body = json.dumps({"visitor_id": address, "name": name, "email": address, "text": text,
                       "client_message_id": f"shot-{uuid.uuid4()}", "page_url": "https://shop.example.com/help"})
    headers = standard_webhooks.signed_headers(demo.web_secret, f"msg_{uuid.uuid4().hex}", int(time.time()),
                                               body.encode())
    return samples.Sample(demo.web_hook_url, body.encode(), headers | {"Content-Type": "application/json"})


def _write(demo: DemoTenant, channel: str, who: str, text: str) -> None:
    if channel == "web":
        _post(_web(demo, who, text))
    elif channel == "sms":
        _post(samples.twilio_sms(demo.hook_url("twilio"), demo.channels["twilio"]["auth_token"], text, sender=who))
    elif channel == "wechat":
        config = demo.channels["wechat"]
        _post(samples.wechat_text(demo.hook_url("wechat"), token=config["token"], aes_key=config["encoding_aes_key"],
                                  app_id=config["app_id"], text=text, openid=who))
    else:
        raw, _ = samples.email_mime(text, sender=who, subject=text.split(".")[0][:60])
        _post(samples.mailgun_mime(demo.hook_url("email"), demo.channels["email"]["mailgun_signing_key"], raw))


def seed(demo: DemoTenant, auth: dict[str, str]) -> list[str]:
    """The customers' messages, then the agent's work; the tickets' ids, newest first."""
    browser.ensure_template(demo.hub_url, auth, *TEMPLATE)
    browser.request(f"{demo.hub_url}/v1/me/availability", {"availability": "online"}, auth, "PUT")
    for channel, who, text in CUSTOMERS:
        _write(demo, channel, who, text)
    deadline = time.monotonic() + 60
    while len(tickets := _tickets(demo, auth)) < len(CUSTOMERS) and time.monotonic() < deadline:
        time.sleep(0.5)
    me = browser.request(f"{demo.hub_url}/v1/me", headers=auth)[1]["agent"]["id"]
    for ticket, action in zip(tickets, WORK, strict=False):
        _work(demo, auth, str(ticket["id"]), action, me)
    return [str(t["id"]) for t in tickets]


def _work(demo: DemoTenant, auth: dict[str, str], ticket_id: str, action: str, me: str) -> None:
    ticket_url = f"{demo.hub_url}/v1/tickets/{ticket_id}"
    rendered = browser.request(f"{demo.hub_url}/v1/templates/{TEMPLATE[0]}/render", {"ticket_id": ticket_id},
                               auth)[1] or {}
    browser.request(f"{ticket_url}/messages", {"text": rendered.get("text") or "Thanks: we are on it."}, auth)
    changes = {"assign": {"assignee_id": me}, "pending": {"assignee_id": me, "status": "pending"},
               "solve": {"assignee_id": me, "status": "solved"}}.get(action)
    if changes:
        status, answer = browser.request(ticket_url, changes, auth, "PATCH")
        if status >= 300:
            print(f"[screenshots] {action} {ticket_id}: {status} {answer}", file=sys.stderr)


def _tickets(demo: DemoTenant, auth: dict[str, str]) -> list[dict[str, Any]]:
    status, answer = browser.request(f"{demo.hub_url}/v1/tickets", headers=auth)
    return list(answer["tickets"]) if status == 200 else []


def shoot(demo: DemoTenant, ticket_id: str, out: Path, profile: Path) -> list[Path]:
    shots = [("console-inbox.png", "/console/inbox", "ticket-row"),
             ("console-ticket.png", f"/console/tickets/{ticket_id}", "timeline-item"),
             ("console-dashboard.png", "/console/dashboard", "kpi-value"),
             ("console-flow.png", "/console/flow", "flow-chart")]
    saved = []
    with browser.browser(profile) as context:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        browser.sign_in(page, demo.hub_url, demo.agent_email, demo.agent_password)
        for name, path, ready in shots:
            page.goto(demo.hub_url + path)
            try:
                page.get_by_test_id(ready).first.wait_for()
                page.wait_for_timeout(4000)  # names and charts arrive after the list
            except Exception as err:  # a page still in the works: shoot what there is, and say so
                print(f"[screenshots] {path}: {ready} did not show ({type(err).__name__})", file=sys.stderr)
            page.screenshot(path=str(out / name))
            saved.append(out / name)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/images"))
    args = parser.parse_args(argv)
    reason = browser.missing_browser()
    if reason:
        raise SystemExit(reason)
    args.out.mkdir(parents=True, exist_ok=True)
    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=Path(tempfile.mkdtemp()))
    try:
        _, demo = local.serve_in_background()
        auth = browser.agent_token(demo.hub_url, demo.agent_email, demo.agent_password)
        tickets = seed(demo, auth)
        time.sleep(3)  # the stream handler's figures trail the writes
        for path in shoot(demo, tickets[0], args.out, Path(tempfile.mkdtemp())):
            print(f"[screenshots] {path}")
    finally:
        local.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
