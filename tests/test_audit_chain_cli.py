"""``switchboard audit verify``: a clear result from the table itself, exit 1 on a broken chain."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from chalicelib.hub import Hub
from chalicelib.storage.items import to_item
from chalicelib.tenancy.audit import Actor
from chalicelib.tenancy.audit_chain import chain_sort_key
from tools.cli import main

ACTOR = Actor(key_id="key_1", via="cli")


def verify(hub: Hub, tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", "--table", hub.settings.table_name,
                                       "--state-dir", str(tmp_path), *args])
    return result.exit_code, result.output


def test_a_sound_chain_says_ok_and_where_it_ends(hub: Hub, tmp_path: Path) -> None:
    for n in range(3):
        hub.audit.record("acme", ACTOR, "settings.update", "tenant/acme", after={"n": n})
    code, output = verify(hub, tmp_path, "--tenant", "acme")
    assert code == 0, output
    assert output.splitlines()[0] == "OK: the tenant acme audit chain holds (3 records verified)"
    assert "checked #1..#3" in output
    code, output = verify(hub, tmp_path)
    assert (code, output.splitlines()[0]) == (0, "OK: the platform audit log holds no chained records yet")


def test_a_broken_chain_exits_1_and_names_the_record(hub: Hub, tmp_path: Path) -> None:
    for n in range(3):
        hub.audit.record("acme", ACTOR, "settings.update", "tenant/acme", after={"n": n})
    hub.aws.dynamodb.delete_item(TableName=hub.settings.table_name,
                                 Key=to_item({"pk": "T#acme#AUDIT", "sk": chain_sort_key(2)}))
    code, output = verify(hub, tmp_path, "--tenant", "acme")
    assert code == 1
    assert output.startswith("BROKEN: the tenant acme audit chain fails at record #3: record(s) #2..#2 are missing")
    code, output = verify(hub, tmp_path, "--tenant", "acme", "--json")
    assert code == 1
    assert json.loads(output)["broken_at"] == 3


def test_an_unreadable_table_is_exit_3(hub: Hub, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "verify", "--table", "no-such-table", "--state-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "could not read table no-such-table" in result.output
