"""``/v1/stream/aside``: what the hub set aside for the caller's tenant, and replay.

Listing needs any read scope (entries name keys and error types, never personal
data, like the delivery log); replay runs the stream handler or the stored-object
handler again — it may send events to connectors — so it needs a tenant-admin
key and is audited. The tenant always comes from the key: the shelf reads and
writes only that tenant's partition.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from switchboard_sdk import BadPayload

from ..pipeline.setaside import ObjectProcess, Process, SetAside
from ..tenancy.audit import AuditLog
from .access import ADMIN_SCOPES, Access, ApiCall, page_limit

MAX_PAGE = 100
REPLAY_PAGE = 100  # entries one replay call takes on (a call must end within API Gateway's 29 s)
ENTRY_ID = r"^asd_[a-z2-7]{26}$"  # storage.ids.stream_entry_id / object_entry_id
EntryId = Annotated[str, StringConstraints(pattern=ENTRY_ID)]


class AsideEntry(BaseModel):
    id: str
    kind: Literal["stream", "object"] = Field(description="A stream record, or a stored object (S3).")
    at: str = Field(description="When it was set aside.")
    error: str = Field(description="The exception's type (empty when the failure was Lambda giving up).")
    reason: str = Field(description="Why, without the values it was about: field locations and error types, "
                                    "codes, or `retries exhausted: <condition>`.")
    event_name: str | None = Field(default=None, description="Stream records: INSERT, MODIFY or REMOVE.")
    sequence: str | None = Field(default=None, description="Stream records: the sequence number.")
    record_keys: dict[str, str] | None = Field(default=None, description="Stream records: the item's keys.")
    object_key: str | None = Field(default=None, description="Objects: the S3 key.")


class AsidePage(BaseModel):
    entries: list[AsideEntry]
    next_cursor: str | None


class AsideReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ids: list[EntryId] = Field(default_factory=list, max_length=REPLAY_PAGE,
                               description="Only these entries (default: all, a page at a time).")
    cursor: EntryId | None = Field(default=None, description="`next_cursor` of the previous replay: go on after it.")


class AsideOutcome(BaseModel):
    id: str
    outcome: Literal["replayed", "still_failing", "gone"]
    reason: str | None = Field(description="Still failing: why (as in the entry).")


class AsideReplayReport(BaseModel):
    replayed: int = Field(description="Taken by the handler; the entries are forgotten.")
    still_failing: int = Field(description="Failed again; the entries stay, with the new reason.")
    gone: int = Field(description="No such entry, or what it named no longer exists; forgotten.")
    results: list[AsideOutcome]
    next_cursor: str | None = Field(description="More entries remain: replay again with this `cursor`.")


class AsideApi:
    def __init__(self, access: Access, shelf: SetAside, audit: AuditLog, *, stream: Process,
                 objects: ObjectProcess) -> None:
        self._access = access
        self._shelf = shelf
        self._audit = audit
        self._stream = stream
        self._objects = objects

    def list_entries(self, call: ApiCall) -> dict[str, Any]:
        tenant_id = self._access.tenant(call).tenant_id
        limit = page_limit(call.query.get("limit"), MAX_PAGE)
        entries, cursor = self._shelf.page(tenant_id, limit=limit, after=_cursor(call.param("cursor")))
        return {"entries": entries, "next_cursor": cursor}

    def replay(self, call: ApiCall) -> dict[str, Any]:
        """Run the handlers again on the tenant's entries: an admin action, audited."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        request = call.optional_json(AsideReplayRequest)
        report = self._shelf.replay(caller.tenant_id, self._stream, objects=self._objects, only=request.ids,
                                    limit=REPLAY_PAGE, after=request.cursor).as_dict()
        counts = {k: report[k] for k in ("replayed", "still_failing", "gone")}
        self._audit.record(caller.tenant_id, caller.actor, "aside.replay", "stream/aside",
                           after={"request": request.model_dump(mode="json"), **counts})
        return report


def _cursor(raw: str | None) -> str | None:
    """A cursor is the id of the last entry of a page."""
    if raw is not None and not re.fullmatch(ENTRY_ID, raw):
        raise BadPayload("cursor is not one this API returned")
    return raw

