"""moto's TransactWriteItems without copying whole tables.

moto (5.x) backs up every table a transaction names by ``copy.deepcopy`` (the table,
its items and its stream records) before it applies anything, so each transaction
costs time in proportion to everything the table holds: a test or a local session
that writes a few thousand tickets slows down quadratically. On a cancelled
transaction it puts the copy in the table's place, which also leaves a stream reader's
shard iterator on the discarded shard.

:func:`install` wraps moto's backend once per process: a transaction keeps copies of
the items it names (at most 100) and the length of each stream shard; if moto cancels
it, those items are put back and the stream records it appended are dropped — the
state AWS would show (nothing of a cancelled transaction is visible), reached without
the copy. What the hub sends and what moto answers are unchanged.
``tests/test_moto_transactions.py`` checks a cancelled transaction leaves items and
stream as they were. For the emulator only: the local runtime, tests and benchmarks.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_installed = False
_lock = threading.Lock()


class _NoTableCopies:
    """Stands in for the ``copy`` module inside moto's transaction: a table is "copied"
    as itself (its items are saved and restored by :func:`install`'s wrapper)."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value)


def install() -> None:
    """Replace moto's whole-table transaction backups by item backups (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        import moto.dynamodb.models as models

        original = models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved, shards = _save(self, transact_items)
            with _lock:  # the module-wide swap: one transaction at a time in this process
                models.__dict__["copy"] = _NoTableCopies  # the name moto's code looks up
                try:
                    original(self, transact_items)
                except Exception:
                    _restore(saved, shards)
                    raise
                finally:
                    models.__dict__["copy"] = copy

        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _installed = True


Saved = list[tuple[Any, Any, Any, Any]]


def _save(backend: Any, transact_items: list[dict[str, Any]]) -> tuple[Saved, dict[int, tuple[Any, int]]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: Saved = []
    shards: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        op = next(iter(entry.values()), None)
        if not isinstance(op, dict):
            continue  # moto refuses it before writing anything
        table = backend.tables.get(op.get("TableName"))
        attrs = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue  # moto refuses it before writing anything
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) \
            if table.range_key_attr and table.range_key_attr in attrs else None
        if table.range_key_attr and range_value is None:
            continue
        saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        if table.stream_shard is not None:
            shards.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    return saved, shards


def _restore(saved: Saved, shards: dict[int, tuple[Any, int]]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    for shard, length in shards.values():
        del shard.items[length:]
