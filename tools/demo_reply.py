"""``switchboard demo reply TICKET TEXT``: the round trip of a reply on the local runtime.

It signs in as the demo agent (demo.json), replies, follows the reply's status on
the ticket until the channel says it arrived (or failed: it prints why), and then
shows what the provider sandbox received for it — the authenticated request the
fake Twilio, WeChat or Mailgun API accepted, and the status callbacks it posted
back, or the signed POST the web channel's backend (the demo receiver) got.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from .admin_cli import STATE_DIR, path_part
from .agent_session import AgentClient, sign_in

POLL_SECONDS = 0.5
# WeChat's customer-service API answers when it took the message and reports no delivery
# later: there, ``sent`` is as far as a reply goes
FINAL = {"delivered", "read", "failed"}
NO_DELIVERY_REPORTS = {"wechat"}
PROVIDERS = {"twilio": "twilio", "wechat": "wechat", "email": "mailgun"}  # channel: its fake in the sandbox


def _settled(message: dict[str, Any]) -> bool:
    status = message.get("status")
    return status in FINAL or (status == "sent" and message["channel"] in NO_DELIVERY_REPORTS)


@click.command("reply")
@click.argument("ticket_id")
@click.argument("text")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the delivery status.")
@click.option("--fail-with", "fail_with", type=int, default=None, metavar="CODE",
              help="Have the sandbox refuse this send with the provider's error CODE (Twilio 21610: "
                   "unsubscribed; WeChat 45015: window closed; Mailgun: an HTTP status), to see a failure.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, show_default=True)
def demo_reply(ticket_id: str, text: str, timeout: float, fail_with: int | None, state_dir: Path) -> None:
    """Reply as the demo agent and watch it reach the sandbox and turn `delivered`."""
    from .cli import _demo

    tenant = _demo(state_dir)
    if not tenant.agent_email:
        raise click.ClickException("demo.json names no demo agent: restart the hub with `make run`")
    session = sign_in(tenant.hub_url, tenant.agent_email, tenant.agent_password,
                      lambda: tenant.agent_password)  # the demo agent's password is permanent already
    click.echo(f"signed in as {tenant.agent_email}")
    api = AgentClient(tenant.hub_url, session=session)
    if fail_with is not None:
        _arm(tenant.receiver_url, api, ticket_id, fail_with)
    queued = api.call("POST", f"/v1/tickets/{path_part(ticket_id)}/messages", {"text": text})["message"]
    click.echo(f"reply {queued['id']} queued on ticket {ticket_id} ({queued['channel']})")
    message = _follow(api, ticket_id, queued["id"], timeout)
    if message["status"] == "failed":
        code = f" [{message['error_code']}]" if message.get("error_code") else ""
        click.echo(f"failed{code}: {message.get('error_reason') or 'no reason given'}")
        click.echo(f"send it again: switchboard tickets retry {ticket_id} {message['id']}")
        sys.exit(1)
    if message["status"] == "sent":
        click.echo(f"({message['channel']} reports no delivery: sent is as far as its replies go)")
    for line in _sandbox_lines(tenant.receiver_url, message):
        click.echo(line)


def _arm(receiver_url: str, api: AgentClient, ticket_id: str, code: int) -> None:
    """Tell the ticket's provider in the sandbox to refuse the next send with ``code``."""
    channel = api.call("GET", f"/v1/tickets/{path_part(ticket_id)}")["ticket"]["channel"]
    provider = PROVIDERS.get(channel)
    if provider is None:
        raise click.ClickException(f"the {channel} channel has no fake provider in the sandbox")
    request = urllib.request.Request(f"{receiver_url}/sandbox/fail", method="POST",  # noqa: S310 - the receiver
                                     data=json.dumps({"provider": provider, "code": code}).encode())
    try:
        urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - the local receiver
    except OSError as err:
        raise click.ClickException(f"cannot reach the demo receiver at {receiver_url}: {err}") from None
    click.echo(f"the {provider} sandbox will refuse the next send with {code}")


def _follow(api: AgentClient, ticket_id: str, message_id: str, timeout: float) -> dict[str, Any]:
    """The reply once settled, echoing each status it passes; exits 1 when time runs out."""
    started, seen = time.monotonic(), "queued"
    click.echo("  queued", nl=False)
    while True:
        detail = api.call("GET", f"/v1/tickets/{path_part(ticket_id)}")
        message = next(m for m in detail["messages"] if m["id"] == message_id)
        if message["status"] != seen:
            seen = message["status"]
            click.echo(f" → {seen}", nl=False)
        if _settled(message):
            click.echo(f"  ({time.monotonic() - started:.1f}s)")
            return dict(message)
        if time.monotonic() - started > timeout:
            click.echo("")
            raise click.ClickException(f"still {seen} after {timeout:g}s: is the hub's worker running? "
                                       f"see `switchboard tickets show {ticket_id}`")
        time.sleep(POLL_SECONDS)


def _sandbox_lines(receiver_url: str, message: dict[str, Any]) -> list[str]:
    """What the fake provider (or the web backend) received for ``message``."""
    channel, provider_id = message["channel"], message["provider_message_id"]
    time.sleep(0.2)  # the fake records a status callback just after the hub answered it
    if channel == "web":
        replies = _get(f"{receiver_url}/replies").get("replies", [])
        got = next((r for r in replies if r.get("id") == message["id"]), None)
        return [f"the web backend (demo receiver) received a signed POST: to {got['to']['value']} "
                f"{got['text']!r}"] if got else ["the web backend has no record of it"]
    sandbox = _get(f"{receiver_url}/sandbox").get("sandbox", {})
    provider = PROVIDERS.get(channel, channel)
    entries = sandbox.get(provider, [])
    if provider == "wechat":  # WeChat's answer names no message id: the newest with this text
        got = next((e for e in reversed(entries) if e["text"] == message["text"]), None)
    else:
        got = next((e for e in entries if e.get("provider_message_id") == provider_id), None)
    if got is None:
        return [f"the {provider} sandbox has no record of {provider_id} (sent with SES, or another sandbox?)"]
    lines = [f"the {provider} sandbox received an authenticated request: to {_to(got)}"
             + (f" from {got['from']}" if got.get("from") else "") + f": {got['text'].strip()[:70]!r}"]
    if got.get("subject"):
        lines.append(f"  subject {got['subject']!r}, In-Reply-To {got.get('in_reply_to')}, "
                     f"Reply-To {got.get('reply_to')}")
    callbacks = ", ".join(f"{c['status']} → hub answered {c['answer']}" for c in got.get("callbacks", []))
    if callbacks:
        lines.append(f"  status callbacks it posted: {callbacks}")
    return lines


def _to(entry: dict[str, Any]) -> str:
    to = entry.get("to")
    return ", ".join(to) if isinstance(to, list) else str(to)


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the local receiver
            return dict(json.loads(answer.read()))
    except OSError as err:
        raise click.ClickException(f"cannot reach the demo receiver at {url}: {err}") from None
