"""``switchboard audit [verify]``: read the audit log (API key), or verify its hash chain
(the operator's AWS credentials, straight from the table: a check of the log should not
depend on the hub it checks).

``switchboard audit verify --tenant acme`` walks the tenant's chain oldest first and
prints where it starts, where it ends (sequence number and hash: keep them to notice
later that the newest records were cut off) and the first break. Exit codes: 0 the chain
holds, 1 it is broken, 2 usage, 3 the table cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .admin_cli import STATE_DIR, HubUnavailable
from .admin_commands import audit as list_audit
from .admin_commands import operator_table


def verification(db: Any, table: str, tenant: str | None, clock: Callable[[], datetime]) -> Any:
    """The :class:`~chalicelib.tenancy.audit_chain.VerificationReport` of one partition."""
    from chalicelib.tenancy.audit import AuditLog

    return AuditLog(db, table, clock).verify(tenant)


def describe(report: Any) -> list[str]:
    """What a person reads: the result first, then the range checked."""
    where = f"tenant {report.partition.split('#')[1]}" if report.partition.startswith("T#") else "platform"
    if report.broken_at is not None:
        head = f"BROKEN: the {where} audit chain fails at record #{report.broken_at}: {report.reason}"
    elif report.last is None:
        head = f"OK: the {where} audit log holds no chained records yet"
    else:
        head = f"OK: the {where} audit chain holds ({report.records} records verified)"
    lines = [head]
    if report.first is not None:
        start = " (older records expired: the chain starts there)" if report.trimmed else ""
        lines.append(f"checked #{report.first}..#{report.last}{start}")
        lines.append(f"newest verified: #{report.last} {report.last_hash}")
    return lines


@click.group("audit", invoke_without_command=True, params=list_audit.params, help=list_audit.help)
@click.pass_context
def audit(ctx: click.Context, /, **options: Any) -> None:
    if ctx.invoked_subcommand is None:
        assert list_audit.callback is not None
        ctx.invoke(list_audit.callback, **options)


@audit.command("verify")
@click.option("--tenant", default=None, help="The tenant whose chain to verify (default: the platform's).")
@click.option("--table", envvar="SWITCHBOARD_TABLE", default=None, help="The hub's table (env SWITCHBOARD_TABLE).")
@click.option("--aws-endpoint", envvar="SWITCHBOARD_AWS_ENDPOINT", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, hidden=True)
def verify(tenant: str | None, table: str | None, aws_endpoint: str | None, as_json: bool, state_dir: Path) -> None:
    """Verify the audit log's hash chain with your AWS credentials; exit 1 when it is broken."""
    from chalicelib.hub import utc_now
    from chalicelib.settings import Settings
    from chalicelib.storage.aws import AwsClients

    table, aws_endpoint = operator_table(table, aws_endpoint, state_dir)
    db = AwsClients(region=Settings.from_env().region, endpoint=aws_endpoint).dynamodb
    try:
        report = verification(db, table, tenant, utc_now)
    except Exception as err:  # credentials, table name, network: say which, no trace
        raise HubUnavailable(f"could not read table {table}: {type(err).__name__}: {err}") from None
    click.echo(json.dumps(report.model_dump(), indent=2) if as_json else "\n".join(describe(report)))
    if not report.ok:
        raise SystemExit(1)


