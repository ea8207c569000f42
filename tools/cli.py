"""The ``switchboard`` command."""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

STATE_DIR = Path(".switchboard")


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def main(verbose: bool) -> None:
    """Switchboard: an omnichannel customer-service integration hub."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command()
@click.option("--port", envvar="PORT", default=8000, show_default=True, help="Hub port (env PORT).")
@click.option("--receiver-port", envvar="RECEIVER_PORT", default=8001, show_default=True,
              help="Demo receiver port (env RECEIVER_PORT).")
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, show_default=True,
              help="Where demo.json (dev secrets) is written.")
@click.option("--aws-endpoint", envvar="SWITCHBOARD_AWS_ENDPOINT", default=None,
              help="Use this AWS-compatible endpoint instead of starting moto's server.")
def dev(port: int, receiver_port: int, state_dir: Path, aws_endpoint: str | None) -> None:
    """Run the hub locally with a demo tenant (what `make run` calls)."""
    from .local.runtime import LocalRuntime

    LocalRuntime(port=port, receiver_port=receiver_port, state_dir=state_dir,
                 aws_endpoint=aws_endpoint).serve()


@main.group()
def demo() -> None:
    """Talk to the local runtime's demo tenant (reads .switchboard/demo.json)."""


def _demo(state_dir: Path) -> Any:
    from .local.demo import DemoTenant

    path = state_dir / "demo.json"
    if not path.exists():
        raise click.ClickException(f"{path} not found: start the hub first with `make run`")
    return DemoTenant.read(path)


def _call(request: urllib.request.Request, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback dev URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except urllib.error.URLError as err:
        raise click.ClickException(f"cannot reach {request.full_url}: {err.reason}") from err


def _send(sample: Any) -> None:
    request = urllib.request.Request(sample.url, data=sample.body, method="POST",  # noqa: S310 - dev URL
                                     headers=sample.headers)
    status, answer = _call(request)
    click.echo(f"{status} {answer}")
    sys.exit(0 if status < 300 else 1)


STATE = click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, show_default=True)


@demo.command("send")
@click.argument("text")
@click.option("--email", default="ada@example.com", show_default=True)
@click.option("--phone", default=None, help="E.164, e.g. +14155550100")
@click.option("--client-message-id", default=None, help="Re-use one to see de-duplication.")
@STATE
def demo_send(text: str, email: str, phone: str | None, client_message_id: str | None, state_dir: Path) -> None:
    """Send a signed web-channel message (Standard Webhooks)."""
    from .local.samples import web_message

    tenant = _demo(state_dir)
    _send(web_message(tenant.web_hook_url, tenant.web_secret, text, email=email, phone=phone,
                      client_message_id=client_message_id))


@demo.command("sms")
@click.argument("text")
@click.option("--sender", "--from", default="+14155550100", show_default=True, help="E.164 phone number")
@STATE
def demo_sms(text: str, sender: str, state_dir: Path) -> None:
    """Send an SMS as Twilio posts it (X-Twilio-Signature)."""
    from .local.samples import twilio_sms

    tenant = _demo(state_dir)
    _send(twilio_sms(tenant.hook_url("twilio"), _secret(tenant, "twilio", "auth_token"), text, sender=sender))


@demo.command("call")
@click.option("--caller", "--from", default="+14155550100", show_default=True, help="E.164 phone number")
@STATE
def demo_call(caller: str, state_dir: Path) -> None:
    """Ring the demo tenant as Twilio Voice does; prints the TwiML answer."""
    from .local.samples import twilio_call

    tenant = _demo(state_dir)
    _send(twilio_call(tenant.hook_url("twilio"), _secret(tenant, "twilio", "auth_token"), caller=caller))


@demo.command("wechat")
@click.argument("text")
@click.option("--openid", default="oDemoUser", show_default=True)
@STATE
def demo_wechat(text: str, openid: str, state_dir: Path) -> None:
    """Push a text message as a WeChat Official Account in safe (AES) mode."""
    from .local.samples import wechat_text

    tenant = _demo(state_dir)
    config = tenant.channels.get("wechat") or {}
    _send(wechat_text(tenant.hook_url("wechat"), token=_secret(tenant, "wechat", "token"),
                      aes_key=config.get("encoding_aes_key", ""), app_id=config.get("app_id", ""),
                      text=text, openid=openid))


@demo.command("email")
@click.argument("text")
@click.option("--sender", "--from", default="ada@example.com", show_default=True)
@click.option("--subject", default="Question about my order", show_default=True)
@click.option("--in-reply-to", default=None, help="Message-ID (without <>) this mail answers.")
@click.option("--ses", is_flag=True, help="Deliver as SES does: raw MIME into the bucket, not Mailgun's POST.")
@STATE
def demo_email(text: str, sender: str, subject: str, in_reply_to: str | None, ses: bool, state_dir: Path) -> None:
    """Send an email as a Mailgun route posts it, or (--ses) as SES stores it."""
    from .local.samples import email_mime, mailgun_mime, ses_object_key

    tenant = _demo(state_dir)
    raw, message_id = email_mime(text, sender=sender, subject=subject, in_reply_to=in_reply_to)
    click.echo(f"Message-ID: {message_id}")
    if not ses:
        _send(mailgun_mime(tenant.hook_url("email"), _secret(tenant, "email", "mailgun_signing_key"), raw))
        return
    import boto3

    key = ses_object_key(tenant.tenant_id)
    s3 = boto3.client("s3", endpoint_url=tenant.aws_endpoint, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106 - the emulator
    s3.put_object(Bucket=tenant.bucket, Key=key, Body=raw)
    click.echo(f"stored s3://{tenant.bucket}/{key}; the hub picks it up within a second")


def _secret(tenant: Any, channel: str, name: str) -> str:
    value = (tenant.channels.get(channel) or {}).get(name)
    if not value:
        raise click.ClickException(f"the demo tenant has no {channel} channel (plugin not installed?)")
    return str(value)


@demo.command("tickets")
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR)
def demo_tickets(state_dir: Path) -> None:
    """List the demo tenant's tickets through the API."""
    tenant = _demo(state_dir)
    request = urllib.request.Request(f"{tenant.hub_url}/v1/tickets",  # noqa: S310 - dev URL
                                     headers={"Authorization": f"Bearer {tenant.api_key}"})
    status, answer = _call(request)
    if status != 200:
        raise click.ClickException(f"{status} {answer}")
    for ticket in json.loads(answer)["tickets"]:
        click.echo(f"{ticket['id']}  {ticket['status']:<7} {ticket['last_activity_at']}  {ticket['subject']}")


@main.group()
@click.option("--api-url", envvar="SWITCHBOARD_API_URL", default=None,
              help="Hub URL (default: the local runtime's, from demo.json).")
@click.option("--api-key", envvar="SWITCHBOARD_API_KEY", default=None,
              help="A tenant-admin API key (default: the demo tenant's).")
@STATE
@click.pass_context
def deliveries(ctx: click.Context, api_url: str | None, api_key: str | None, state_dir: Path) -> None:
    """The delivery log and replay, through the API (the key names the tenant)."""
    if api_url is None or api_key is None:
        tenant = _demo(state_dir)
        api_url, api_key = api_url or tenant.hub_url, api_key or tenant.api_key
    ctx.obj = (api_url.rstrip("/"), {"Authorization": f"Bearer {api_key}"})


@deliveries.command("list")
@click.option("--ticket", "ticket_id", default=None)
@click.option("--connector", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
@click.pass_obj
def deliveries_list(api: tuple[str, dict[str, str]], ticket_id: str | None, connector: str | None,
                    limit: int, as_json: bool) -> None:
    """Delivery attempts of a ticket or a connector, newest first."""
    query = {k: v for k, v in {"ticket_id": ticket_id, "connector": connector, "limit": str(limit)}.items() if v}
    status, answer = _call(urllib.request.Request(f"{api[0]}/v1/deliveries?{urlencode(query)}",  # noqa: S310
                                                  headers=api[1]))
    if status != 200:
        raise click.ClickException(f"{status} {answer}")
    rows = json.loads(answer)["deliveries"]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['at']}  {row['connector']:<10} {row['event_id']}  #{row['attempt']} "
                   f"{row['outcome']:<9} {row['status_code'] or '-':>3}  {row['reason'][:60]}")


@deliveries.command("replay")
@click.option("--source", type=click.Choice(["dlq", "log"]), default="dlq", show_default=True)
@click.option("--connector", default=None)
@click.option("--since", default=None, help="ISO 8601 with offset, e.g. 2026-11-25T00:00:00Z")
@click.option("--until", default=None)
@click.option("--event-id", "event_ids", multiple=True)
@click.pass_obj
def deliveries_replay(api: tuple[str, dict[str, str]], source: str, connector: str | None, since: str | None,
                      until: str | None, event_ids: tuple[str, ...]) -> None:
    """Re-queue dead letters (or logged events) of the tenant; harmless for delivered ones."""
    body = {"source": source, "connector": connector, "since": since, "until": until,
            "event_ids": list(event_ids)}
    request = urllib.request.Request(  # noqa: S310 - the configured hub URL
        f"{api[0]}/v1/deliveries/replay", method="POST", headers=api[1] | {"Content-Type": "application/json"},
        data=json.dumps({k: v for k, v in body.items() if v}).encode())
    status, answer = _call(request, timeout=300)  # a large dead-letter queue takes a while
    if status != 200:
        raise click.ClickException(f"{status} {answer}")
    report = json.loads(answer)
    click.echo(f"re-queued {report['requeued']} event(s) (looked at {report['scanned']})")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("docs/schemas"))
def schemas(directory: Path) -> None:
    """Write the JSON Schemas of the SDK's models into DIRECTORY, and the API's
    OpenAPI document next to it (docs/openapi.json)."""
    from chalicelib.api.openapi import rendered

    from .schemas import write_schemas

    for path in write_schemas(directory):
        click.echo(f"wrote {path}")
    openapi = directory.parent / "openapi.json"
    openapi.write_text(rendered())
    click.echo(f"wrote {openapi}")


@main.group()
def plugin() -> None:
    """Write a new plugin package (offline; `switchboard plugins` manages installed ones)."""


@plugin.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["channel", "connector", "assistant"]), required=True,
              help="A channel (provider webhooks in), a connector (events out) or an assistant (answers).")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the project (default: ./switchboard-plugin-NAME, _ as -); "
                   "it must not exist, or be empty.")
def plugin_new(name: str, kind: str, directory: Path | None) -> None:
    """Generate a pip-installable plugin package NAME (a lower-case identifier) in the
    built-ins' layout, with a minimal working implementation and conformance tests."""
    from switchboard_sdk import CONTRACT_VERSION

    from .scaffold.generate import Names, ScaffoldError, generate

    try:
        target = generate(name, kind, directory)
    except ScaffoldError as err:
        raise click.UsageError(str(err)) from None
    names = Names.of(name)
    click.echo(f"wrote {target}: {kind} plugin {name!r} ({names.distribution}, plugin contract {CONTRACT_VERSION})")
    click.echo("next, with switchboard-sdk installed (docs/plugins.md, \"From scaffold to tenant\"):")
    for line in (f"cd {target}", 'pip install -e ".[test]"', "pytest", "switchboard plugins check"):
        click.echo(f"  {line}")


def _register_admin_commands() -> None:
    from .admin_commands import COMMANDS
    from .assistant_cli import assistant
    from .knowledge_cli import knowledge
    from .report_cli import report
    from .rules_cli import COMMANDS as RULE_COMMANDS
    from .templates_cli import templates

    for command in (*COMMANDS, *RULE_COMMANDS, templates, report, knowledge, assistant):
        main.add_command(command)
    from .audit_cli import audit

    main.add_command(audit)  # replaces the plain `audit` listing with a group: listing, and `verify`


def _register_agent_commands() -> None:
    from .agent_cli import COMMANDS
    from .demo_reply import demo_reply

    for command in COMMANDS:
        main.add_command(command)
    demo.add_command(demo_reply)


_register_admin_commands()
_register_agent_commands()

if __name__ == "__main__":
    main()
