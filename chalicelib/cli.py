"""The ``switchboard`` command."""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

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


def _call(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback dev URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except urllib.error.URLError as err:
        raise click.ClickException(f"cannot reach {request.full_url}: {err.reason}") from err


@demo.command("send")
@click.argument("text")
@click.option("--email", default="ada@example.com", show_default=True)
@click.option("--phone", default=None, help="E.164, e.g. +14155550100")
@click.option("--client-message-id", default=None, help="Re-use one to see de-duplication.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR)
def demo_send(text: str, email: str, phone: str | None, client_message_id: str | None, state_dir: Path) -> None:
    """Send a correctly signed web-channel message to the demo tenant."""
    from switchboard_sdk import standard_webhooks

    tenant = _demo(state_dir)
    message = {"visitor_id": "demo-visitor", "name": "Ada Lovelace", "email": email, "phone": phone,
               "text": text, "client_message_id": client_message_id or f"cli-{uuid.uuid4()}",
               "page_url": "https://shop.example.com/help"}
    body = json.dumps({k: v for k, v in message.items() if v is not None}).encode()
    headers = standard_webhooks.signed_headers(tenant.web_secret, f"msg_{uuid.uuid4().hex}",
                                               int(time.time()), body)
    request = urllib.request.Request(tenant.web_hook_url, data=body, method="POST",  # noqa: S310 - dev URL
                                     headers=headers | {"Content-Type": "application/json"})
    status, answer = _call(request)
    click.echo(f"{status} {answer}")
    sys.exit(0 if status < 300 else 1)


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


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("docs/schemas"))
def schemas(directory: Path) -> None:
    """Write the JSON Schemas of the SDK's models into DIRECTORY."""
    from .schemas import write_schemas

    for path in write_schemas(directory):
        click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
