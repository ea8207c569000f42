"""Agents' own console preferences: their language and saved inbox views.

One item per agent (``T#<t>#AGENTPREFS`` / ``<agent id>``), apart from the agent's
record: the record is written by admins (conditional on its ``updated_at``) and
its changes wake the routing behind the stream, neither of which a saved view
should. Read with ``GET /v1/me`` (one ``GetItem``), written by
``PUT /v1/me/preferences`` with one conditional ``UpdateItem`` that sets only what
the request names and answers the whole item.
"""

from __future__ import annotations

from typing import Any

from .conventions import iso, utc_now
from .items import from_item, to_item
from .keys import Key, TenantKeys
from .table import TenantTable

FIELDS = ("language", "views")


class AgentPreferences(TenantTable):
    def _key(self, agent_id: str) -> Key:
        return {"pk": {"S": f"{self.keys.prefix}AGENTPREFS"}, "sk": {"S": agent_id}}

    def get(self, agent_id: str) -> dict[str, Any]:
        """The agent's stored preferences (``language``, ``views``; absent ones left out)."""
        result = self._db.get_item(TableName=self._table, Key=self._key(agent_id), ConsistentRead=True)
        item = from_item(result["Item"]) if "Item" in result else {}
        return {name: item[name] for name in FIELDS if name in item}

    def update(self, agent_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set (a value) or clear (``None``) each named field; the preferences after it."""
        names = {f"#f{n}": name for n, name in enumerate(changes)}
        sets = [f"#f{n} = :f{n}" for n, value in enumerate(changes.values()) if value is not None]
        removes = [f"#f{n}" for n, value in enumerate(changes.values()) if value is None]
        values = {f":f{n}": value for n, value in enumerate(changes.values()) if value is not None}
        values |= {":t": "agent_preferences", ":tenant": self.tenant_id, ":a": agent_id, ":at": iso(utc_now())}
        update = "SET " + ", ".join([*sets, "#type = :t", "tenant_id = :tenant", "agent_id = :a", "updated_at = :at"])
        result = self._db.update_item(
            TableName=self._table, Key=self._key(agent_id),
            UpdateExpression=update + (" REMOVE " + ", ".join(removes) if removes else ""),
            ConditionExpression="attribute_not_exists(pk) OR agent_id = :a",  # one agent's item, never another's
            ExpressionAttributeNames=names | {"#type": "type"}, ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
        item = from_item(result.get("Attributes") or {})
        return {name: item[name] for name in FIELDS if name in item}


class PreferenceStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db, self._table = client, table_name

    def of(self, tenant_id: str) -> AgentPreferences:
        return AgentPreferences(self._db, self._table, TenantKeys(tenant_id))
