"""``switchboard login|logout|tickets``: an agent's commands.

``login`` signs in with email and password (``POST /v1/session``; on the first
sign-in it asks for a new password) and keeps the session
(:mod:`tools.agent_session`); ``tickets list|show|reply|note|retry`` then work as that
agent. ``--api-key`` (or ``SWITCHBOARD_API_KEY``) uses a key with the ``reply``
scope instead. Output is a table for people, ``--json`` for scripts; exit codes as
the administration commands': 0 done, 1 refused, 2 usage, 3 hub unreachable or 5xx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .admin_cli import STATE_DIR, _default_url, path_part, show
from .agent_session import SESSION_ENV, AgentClient, StoredSession, default_session_file, sign_in

TICKET_COLUMNS = ("id", "status", "channel", "last_activity_at", "subject")
STATUSES = click.Choice(["open", "pending", "solved", "closed"])
MAX_TEXT = 70  # characters of a message a table row shows


def _session_file(value: Path | None) -> Path:
    return value or default_session_file()


SESSION_OPTION = click.option("--session-file", type=click.Path(path_type=Path), envvar=SESSION_ENV, default=None,
                              help=f"Where the session is kept (env {SESSION_ENV}; "
                                   "default ~/.config/switchboard/session.json).")
STATE_OPTION = click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, hidden=True)
URL_OPTION = click.option("--api-url", envvar="SWITCHBOARD_API_URL", default=None,
                          help="Hub URL (env SWITCHBOARD_API_URL; default: the session's, else the local runtime's).")


def agent_options(func: Any) -> Any:
    """``--api-url``, ``--api-key``, ``--session-file``, ``--json``; passes ``api`` (an AgentClient) and ``as_json``."""
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)
    func = click.option("--api-key", envvar="SWITCHBOARD_API_KEY", default=None,
                        help="An API key with the reply scope, instead of the signed-in session.")(func)
    return URL_OPTION(SESSION_OPTION(STATE_OPTION(func)))


def agent_client(api_url: str | None, api_key: str | None, session_file: Path | None,
                 state_dir: Path) -> AgentClient:
    if api_key:
        return AgentClient((api_url or _default_url(state_dir)).rstrip("/"), key=api_key)
    path = _session_file(session_file)
    session = StoredSession.read(path)
    if session is None:
        raise click.ClickException("not signed in: sign in with `switchboard login` (or give --api-key)")
    url = (api_url or session.api_url).rstrip("/")
    if url != session.api_url:
        raise click.ClickException(f"the session is for {session.api_url}, not {url}: "
                                   f"sign in there with `switchboard login --api-url {url}`")
    return AgentClient(url, session=session, session_file=path)


def _client(options: dict[str, Any]) -> AgentClient:
    return agent_client(options["api_url"], options["api_key"], options["session_file"], options["state_dir"])


# -- login, logout -------------------------------------------------------------------


@click.command()
@click.option("--email", prompt=True, help="The agent's email address.")
@click.option("--password", prompt=True, hide_input=True, envvar="SWITCHBOARD_PASSWORD",
              help="Asked for when not given (env SWITCHBOARD_PASSWORD).")
@click.option("--new-password", default=None, help="On the first sign-in: the password to replace the "
                                                   "temporary one with (asked for when needed).")
@URL_OPTION
@SESSION_OPTION
@STATE_OPTION
def login(email: str, password: str, new_password: str | None, api_url: str | None, session_file: Path | None,
          state_dir: Path) -> None:
    """Sign in as an agent; later commands use the session."""
    url = (api_url or _default_url(state_dir)).rstrip("/")

    def choose_password() -> str:
        if new_password:
            return new_password
        click.echo("First sign-in: choose your own password (12+ characters, upper and lower case, a digit).")
        return str(click.prompt("New password", hide_input=True, confirmation_prompt=True))

    session = sign_in(url, email.strip().lower(), password, choose_password)
    path = _session_file(session_file)
    session.write(path)
    me = AgentClient(url, session=session, session_file=path).call("GET", "/v1/me")
    agent = me["agent"]
    click.echo(f"Signed in to {url} as {agent['name']} <{agent['email']}> ({agent['role']}, tenant "
               f"{me['tenant_id']}); session kept in {path}")


@click.command()
@SESSION_OPTION
@STATE_OPTION
def logout(session_file: Path | None, state_dir: Path) -> None:
    """Forget the session (its tokens stop working when they expire, within the hour)."""
    path = _session_file(session_file)
    if path.exists():
        path.unlink()
        click.echo(f"Signed out (removed {path})")
    else:
        click.echo("Not signed in")


# -- tickets -------------------------------------------------------------------------


@click.group()
def tickets() -> None:
    """List and read tickets, reply to customers, write notes, retry failed replies."""


@tickets.command("list")
@click.option("--status", type=STATUSES, default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100))
@agent_options
def tickets_list(status: str | None, limit: int, **options: Any) -> None:
    """The tenant's tickets, the most recently active first."""
    query = {"limit": str(limit)} | ({"status": status} if status else {})
    page = _client(options).call("GET", "/v1/tickets", query=query)
    show(page, options["as_json"], page["tickets"], TICKET_COLUMNS)


@tickets.command("show")
@click.argument("ticket_id")
@agent_options
def tickets_show(ticket_id: str, **options: Any) -> None:
    """A ticket, its customer and its messages: who wrote each, and each reply's delivery status."""
    detail = _client(options).call("GET", f"/v1/tickets/{path_part(ticket_id)}")
    if options["as_json"]:
        click.echo(json.dumps(detail, indent=2))
        return
    for line in ticket_lines(detail):
        click.echo(line)


@tickets.command("reply")
@click.argument("ticket_id")
@click.argument("text")
@click.option("--client-message-id", default=None, help="Sending again with the same id sends nothing twice.")
@agent_options
def tickets_reply(ticket_id: str, text: str, client_message_id: str | None, **options: Any) -> None:
    """Answer the customer on the ticket's channel (queued; `tickets show` follows its status)."""
    body = {"text": text} | ({"client_message_id": client_message_id} if client_message_id else {})
    _post_message(options, ticket_id, body)


@tickets.command("note")
@click.argument("ticket_id")
@click.argument("text")
@agent_options
def tickets_note(ticket_id: str, text: str, **options: Any) -> None:
    """An internal note on the ticket: stored and shown, never sent to the customer."""
    _post_message(options, ticket_id, {"text": text, "internal": True})


@tickets.command("retry")
@click.argument("ticket_id")
@click.argument("message_id")
@agent_options
def tickets_retry(ticket_id: str, message_id: str, **options: Any) -> None:
    """Send a failed reply again."""
    answer = _client(options).call(
        "POST", f"/v1/tickets/{path_part(ticket_id)}/messages/{path_part(message_id)}/retry")
    _said(answer["message"], options["as_json"], "queued again")


def _post_message(options: dict[str, Any], ticket_id: str, body: dict[str, Any]) -> None:
    answer = _client(options).call("POST", f"/v1/tickets/{path_part(ticket_id)}/messages", body)
    _said(answer["message"], options["as_json"], "note stored" if body.get("internal") else "reply queued")


def _said(message: dict[str, Any], as_json: bool, what: str) -> None:
    if as_json:
        click.echo(json.dumps(message, indent=2))
        return
    click.echo(f"{what}: {message['id']} ({message['status'] or 'note'}) on ticket {message['ticket_id']}")
    if message["status"] == "queued":
        click.echo(f"follow it with: switchboard tickets show {message['ticket_id']}")


def ticket_lines(detail: dict[str, Any]) -> list[str]:
    """A ticket for people: a header, then one row per message, a failure's reason under its row."""
    ticket, customer = detail["ticket"], detail["customer"]
    lines = [f"Ticket {ticket['id']}  {ticket['status']}  via {ticket['channel']}  {ticket['subject']!r}"]
    if customer is None:
        lines.append("Customer (erased)")
        who = "customer"
    else:
        ids = ", ".join(f"{i['kind']} {i['value']}" for i in customer["identities"])
        who = customer.get("display_name") or customer["identities"][0]["value"]
        lines.append(f"Customer {who}  ({ids})")
    columns = ("at", "message", "direction", "author", "status", "text")
    rows = [_row(m, who) for m in detail["messages"]]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines += ["", "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for message, row in zip(detail["messages"], rows, strict=True):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if message.get("status") == "failed":
            code = f" [{message['error_code']}]" if message.get("error_code") else ""
            lines.append(f"    ✗ not delivered{code}: {message.get('error_reason') or 'no reason given'}")
            lines.append(f"      send it again: switchboard tickets retry {ticket['id']} {message['id']}")
    if not rows:
        lines.append("(no messages)")
    return lines


def _row(message: dict[str, Any], customer: str) -> list[str]:
    direction = "note" if message.get("internal") else message["direction"]
    author = customer if message["direction"] == "inbound" else (message.get("author_name") or "-")
    text = " ".join(str(message.get("text") or "").split()) or f"({message.get('kind', 'message')})"
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT - 1] + "…"
    at = str(message["received_at"]).replace("T", " ")[:19]
    return [at, message["id"], direction, author, message.get("status") or "-", text]


COMMANDS = [login, logout, tickets]
