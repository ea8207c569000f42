"""An agent's CLI on the local runtime over HTTP: `switchboard login` (and the first
sign-in's new password), `tickets list|show|reply|note|retry`, sessions refreshed
when they run out and refused ones sent back to `login`, and `demo reply`'s round trip."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import local_runtime, wait_for
from tools.local.demo import DemoTenant
from tools.local.provider_sandbox import ProviderSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parent.parent


class Cli:
    def __init__(self, demo: DemoTenant, sandbox: ProviderSandbox, state: Path) -> None:
        self.demo, self.sandbox, self.state = demo, sandbox, state
        self.session = state / "config" / "session.json"

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        # a fresh shell: no keys or AWS credentials, the session file in the test's directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "AWS_"))}
        env["SWITCHBOARD_SESSION_FILE"] = str(self.session)
        return subprocess.run([sys.executable, "-m", "tools.cli", *args, "--state-dir", str(self.state)],
                              cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
                              check=False)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    def login(self) -> str:
        return self.ok("login", "--email", self.demo.agent_email, "--password", self.demo.agent_password)

    def sms(self, text: str, sender: str) -> str:
        """A customer's SMS; its ticket's id once it is listed."""
        self.ok("demo", "sms", text, "--from", sender)
        listed = wait_for(lambda: [line for line in self.ok("tickets", "list").splitlines() if text[:40] in line],
                          f"the ticket of {text!r}")
        return str(listed[0].split()[0])

    def session_data(self) -> dict[str, Any]:
        return dict(json.loads(self.session.read_text()))


def create_agent(cli: Cli, email: str, name: str) -> dict[str, Any]:
    """POST /v1/agents as the signed-in admin: the agent and its temporary password."""
    body = json.dumps({"email": email, "name": name, "role": "agent"}).encode()
    headers = {"Authorization": f"Bearer {cli.session_data()['id_token']}", "Content-Type": "application/json"}
    sent = urllib.request.Request(f"{cli.demo.hub_url}/v1/agents", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(sent, timeout=10) as answer:
        assert answer.status == 201
        return dict(json.loads(answer.read()))


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    state = tmp_path_factory.mktemp("state")
    started: list[Any] = []
    with local_runtime(state, started=started, queue_workers=1) as (_, demo):
        yield Cli(demo, started[0].sandbox, state)


def test_an_agent_signs_in_answers_writes_a_note_and_signs_out(cli: Cli) -> None:
    assert "as Dana Demo <agent@demo.example> (admin, tenant demo)" in cli.login()
    assert stat.S_IMODE(cli.session.stat().st_mode) == 0o600, "tokens readable by their owner only"
    ticket = cli.sms("My parcel is late", "+14155550161")
    assert "reply queued" in cli.ok("tickets", "reply", ticket, "It leaves the depot today")
    assert "note stored" in cli.ok("tickets", "note", ticket, "Customer is a VIP")
    wait_for(lambda: " delivered " in cli.ok("tickets", "show", ticket), "the reply to show delivered")
    shown = cli.ok("tickets", "show", ticket).splitlines()
    assert shown[1].startswith("Customer +14155550161")
    assert shown[3].split() == ["AT", "MESSAGE", "DIRECTION", "AUTHOR", "STATUS", "TEXT"]
    patterns = [r"inbound\s+\+14155550161\s+-\s+My parcel is late$",
                r"outbound\s+Dana Demo\s+delivered\s+It leaves the depot today$",
                r"note\s+Dana Demo\s+-\s+Customer is a VIP$"]
    # the demo assistant answers new tickets too (the delivery FAQ, as "Assistant"): not the agent's lines
    rows = [line for line in shown[4:] if not re.search(r"\soutbound\s+Assistant\s", line)]
    assert len(rows) == len(patterns), shown
    for line, pattern in zip(rows, patterns, strict=True):
        assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+msg_\w+\s+" + pattern, line), line
    detail = json.loads(cli.ok("tickets", "show", ticket, "--json"))
    agents = [m for m in detail["messages"] if not (m.get("author_id") or "").startswith("assistant:")]
    assert [m["internal"] for m in agents] == [False, False, True]
    assert "Signed out" in cli.ok("logout")
    refused = cli.run("tickets", "list")
    assert refused.returncode == 1
    assert "not signed in: sign in with `switchboard login`" in refused.stderr


def test_a_failed_reply_shows_why_and_retry_sends_it(cli: Cli) -> None:
    assert cli.sandbox.twilio is not None
    cli.login()
    ticket = cli.sms("Please answer me", "+14155550162")
    twilio = cli.sandbox.twilio
    wait_for(lambda: any(m.to == "+14155550162" for m in twilio.accepted), "the assistant's answer")  # sent first
    twilio.fail_next(21610)
    cli.ok("tickets", "reply", ticket, "Here is your answer")
    def failed() -> str | None:
        out = cli.ok("tickets", "show", ticket)
        return out if "not delivered" in out else None

    shown = wait_for(failed, "the reply to fail")
    assert "✗ not delivered [21610]: Twilio:" in shown
    message_id = next(m["id"] for m in json.loads(cli.ok("tickets", "show", ticket, "--json"))["messages"]
                      if m["direction"] == "outbound" and m["text"] == "Here is your answer")
    assert f"switchboard tickets retry {ticket} {message_id}" in shown
    assert "queued again" in cli.ok("tickets", "retry", ticket, message_id)
    wait_for(lambda: " delivered " in cli.ok("tickets", "show", ticket), "the retried reply to be delivered")
    again = cli.run("tickets", "retry", ticket, message_id)
    assert (again.returncode, "409" in again.stderr) == (1, True), "only a failed reply is sent again"


def test_a_first_sign_in_sets_the_agents_own_password(cli: Cli) -> None:
    cli.login()
    created = create_agent(cli, "bo@demo.example", "Bo Newcomer")
    email, temporary = created["agent"]["email"], created["temporary_password"]
    signed_in = cli.ok("login", "--email", email, "--password", temporary, "--new-password", "Own-password-2026")
    assert f"as Bo Newcomer <{email}> (agent, tenant demo)" in signed_in
    assert cli.session_data()["email"] == email
    assert cli.run("login", "--email", email, "--password", temporary).returncode == 1, "the temporary one is spent"
    assert "Signed in" in cli.ok("login", "--email", email, "--password", "Own-password-2026")


def test_sessions_refresh_when_they_run_out_and_a_refused_one_asks_to_sign_in(cli: Cli) -> None:
    cli.login()
    expired = cli.session_data() | {"expires_at": 0}
    cli.session.write_text(json.dumps(expired))
    cli.ok("tickets", "list")
    assert cli.session_data()["expires_at"] > 0, "refreshed and saved"
    assert cli.session_data()["refresh_token"] == expired["refresh_token"], "a refresh keeps the refresh token"
    header, payload, _ = cli.session_data()["id_token"].split(".")
    cli.session.write_text(json.dumps(cli.session_data() | {"id_token": f"{header}.{payload}.forged"}))
    refused = cli.run("tickets", "list")
    assert refused.returncode == 1
    assert "401 invalid_token" in refused.stderr
    assert "sign in again with `switchboard login`" in refused.stderr


def test_demo_reply_shows_the_whole_round_trip(cli: Cli) -> None:
    cli.login()
    ticket = cli.sms("Round trip please", "+14155550163")
    out = cli.ok("demo", "reply", ticket, "Round trip done")
    assert "signed in as agent@demo.example" in out
    assert "  queued → " in out
    assert out.count("→ delivered  (") == 1, "the status line ends once delivered"
    assert "the twilio sandbox received an authenticated request: to +14155550163 from +15005550006: " \
           "'Round trip done'" in out
    assert "status callbacks it posted: sent → hub answered 200, delivered → hub answered 200" in out


def test_demo_reply_can_make_the_sandbox_refuse_and_says_why(cli: Cli) -> None:
    cli.login()
    ticket = cli.sms("Fail me once", "+14155550164")
    twilio = cli.sandbox.twilio
    assert twilio is not None
    # the assistant's own answer goes out first: armed before it, the failure would be its
    wait_for(lambda: any(m.to == "+14155550164" for m in twilio.accepted), "the assistant's answer")
    refused = cli.run("demo", "reply", ticket, "This one bounces", "--fail-with", "21610")
    assert refused.returncode == 1
    assert "the twilio sandbox will refuse the next send with 21610" in refused.stdout
    assert "failed [21610]: Twilio:" in refused.stdout
    message_id = refused.stdout.split("send it again: switchboard tickets retry ")[1].split()[1]
    cli.ok("tickets", "retry", ticket, message_id)
    wait_for(lambda: " delivered " in cli.ok("tickets", "show", ticket), "the retried reply to be delivered")
