"""Moving a merged ticket's messages to the ticket it was merged into.

The source is marked ``merged`` first (by the workflow), so new messages already
land in the target; then its messages (with the parts of large ones) are copied
into the target's partition — same message ids and times, ``ticket_id`` the
target's, ``moved_from`` the source's, so the stream announces nothing twice —
the provider-message map is pointed at the target (threading and status
callbacks find them there), and the originals are deleted. Each step is
idempotent (a copy is conditional on being new; a repoint on still naming the
source), so a merge interrupted at any point is finished by running it again.
"""

from __future__ import annotations

from typing import Any

from .items import from_item, to_item
from .keys import MESSAGE, key_of
from .table import TenantTable

PAGE = 100


class TicketMerges(TenantTable):
    def move_messages(self, source_id: str, target_id: str, *, limit: int = 1000) -> tuple[int, bool]:
        """Move up to ``limit`` items (messages and their parts) from ``source_id`` to
        ``target_id``; returns how many moved and whether any are left."""
        moved = 0
        while moved < limit:
            items = self._page(source_id, min(PAGE, limit - moved))
            if not items:
                return moved, False
            for item in items:
                self._move(item, source_id, target_id)
            moved += len(items)
        return moved, bool(self._page(source_id, 1))

    def _page(self, ticket_id: str, count: int) -> list[dict[str, Any]]:
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :m)", ConsistentRead=True,
            Limit=count,
            ExpressionAttributeValues=to_item({":p": self.keys.ticket_partition(ticket_id), ":m": MESSAGE}),
        )
        return [from_item(item) for item in result.get("Items", [])]

    def _move(self, item: dict[str, Any], source_id: str, target_id: str) -> None:
        copy = item | {"pk": self.keys.ticket_partition(target_id), "ticket_id": target_id, "moved_from": source_id}
        copy.pop("ticket_state", None)  # the source ticket's state means nothing to the target
        self._put_new(to_item(copy))
        if item.get("type") == "message" and item.get("channel") and item.get("provider_message_id"):
            self._update_if(self.keys.provider_message(str(item["channel"]), str(item["provider_message_id"])),
                            "SET ticket_id = :target", "ticket_id = :source",
                            {":target": target_id, ":source": source_id})
        self._db.delete_item(TableName=self._table, Key=key_of(item))
