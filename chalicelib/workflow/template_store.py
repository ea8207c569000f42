"""A tenant's reply templates and macros, in the table.

One partition (``T#<t>#TEMPLATES``: ``TPL#<code>`` and ``MAC#<id>``, keys built in
:mod:`chalicelib.storage.keys`), so one Query lists each kind. An item keeps its
record as JSON (``doc``) beside its ``version``, which every change names: a write
on a version that moved is :class:`Conflict`, never a silent overwrite. Each admin
change is written in one transaction with its audit record.

An import (:meth:`TemplateStore.apply`) is validated whole by the caller before it
gets here; it is then written in transactions of at most :data:`CHUNK` changes plus
the chunk's audit record. A conflict part-way (someone edited a template meanwhile)
stops it with the earlier chunks written: importing the same file again finishes
it, as unchanged templates are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from switchboard_sdk import Conflict

from ..storage.aws import write_together
from ..storage.items import from_item, to_item
from ..storage.keys import Key
from ..storage.table import TenantTable
from .templates import Macro, ReplyTemplate

CHUNK = 24  # changes per transaction, with their audit record: 25 items
TEMPLATE_PREFIX = "TPL#"
MACRO_PREFIX = "MAC#"
_RACED = "changed meanwhile; read it again and retry"


@dataclass(frozen=True)
class ImportChange:
    """One write of an import: ``template`` as it will be (create, update) or as stored (delete)."""

    kind: Literal["create", "update", "delete"]
    template: ReplyTemplate
    before_version: int | None = None


AuditFor = Callable[[list[ImportChange]], dict[str, Any]]


class TemplateStore(TenantTable):
    # -- templates ---------------------------------------------------------------

    def templates(self) -> list[ReplyTemplate]:
        return [ReplyTemplate.model_validate_json(i["doc"]) for i in self._listed(TEMPLATE_PREFIX)]

    def template(self, code: str) -> ReplyTemplate | None:
        item = self._get(self.keys.template(code))
        return None if item is None else ReplyTemplate.model_validate_json(item["doc"])

    def create_template(self, template: ReplyTemplate, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._put_template(template, None), audit])):
            raise Conflict(f"a template {template.code} exists already")

    def update_template(self, before_version: int, after: ReplyTemplate, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._put_template(after, before_version), audit])):
            raise Conflict(f"the template {_RACED}")

    def delete_template(self, template: ReplyTemplate, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._delete(self.keys.template(template.code), template.version),
                                             audit])):
            raise Conflict(f"the template {_RACED}")

    def apply(self, changes: list[ImportChange], audit_for: AuditFor) -> int:
        """Write ``changes`` in transactions of :data:`CHUNK` with ``audit_for(chunk)``; how many
        were written. :class:`Conflict` on a template changed meanwhile (earlier chunks stay)."""
        for start in range(0, len(changes), CHUNK):
            chunk = changes[start : start + CHUNK]
            writes = [self._change(change) for change in chunk]
            if not all(write_together(self._db, [*writes, audit_for(chunk)])):
                raise Conflict(f"a template changed meanwhile; {start} of {len(changes)} changes were made: "
                               "import the file again to finish")
        return len(changes)

    def _change(self, change: ImportChange) -> dict[str, Any]:
        if change.kind == "delete":
            return self._delete(self.keys.template(change.template.code), change.template.version)
        return self._put_template(change.template, change.before_version)

    def _put_template(self, template: ReplyTemplate, before_version: int | None) -> dict[str, Any]:
        fields = {"type": "template", "code": template.code}
        return self._put(self.keys.template(template.code), template, fields, before_version)

    # -- macros ------------------------------------------------------------------

    def macros(self) -> list[Macro]:
        return [Macro.model_validate_json(i["doc"]) for i in self._listed(MACRO_PREFIX)]

    def macro(self, macro_id: str) -> Macro | None:
        item = self._get(self.keys.macro(macro_id))
        return None if item is None else Macro.model_validate_json(item["doc"])

    def create_macro(self, macro: Macro, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._put_macro(macro, None), audit])):
            raise Conflict("a macro with this id exists already")

    def update_macro(self, before_version: int, after: Macro, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._put_macro(after, before_version), audit])):
            raise Conflict(f"the macro {_RACED}")

    def delete_macro(self, macro: Macro, audit: dict[str, Any]) -> None:
        if not all(write_together(self._db, [self._delete(self.keys.macro(macro.id), macro.version), audit])):
            raise Conflict(f"the macro {_RACED}")

    def _put_macro(self, macro: Macro, before_version: int | None) -> dict[str, Any]:
        return self._put(self.keys.macro(macro.id), macro, {"type": "macro", "id": macro.id}, before_version)

    # -- plumbing ----------------------------------------------------------------

    def _put(self, key: Key, record: ReplyTemplate | Macro, fields: dict[str, Any],
             before_version: int | None) -> dict[str, Any]:
        """A Put of ``record``: new (``before_version`` None) or over that version."""
        item = key | to_item(fields | {"version": record.version, "doc": _doc(record)})
        put: dict[str, Any] = {"TableName": self._table, "Item": item}
        if before_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put |= {"ConditionExpression": "version = :was",
                    "ExpressionAttributeValues": to_item({":was": before_version})}
        return {"Put": put}

    def _delete(self, key: Key, version: int) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": key, "ConditionExpression": "version = :was",
                           "ExpressionAttributeValues": to_item({":was": version})}}

    def _listed(self, prefix: str) -> list[dict[str, Any]]:
        """The items of one kind: one Query, page by page."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :k)",
            "ExpressionAttributeValues": to_item({":p": self.keys.templates_partition(), ":k": prefix}),
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def _doc(record: BaseModel) -> str:
    return record.model_dump_json()
