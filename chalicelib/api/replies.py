"""Agents answer customers: ``POST /v1/tickets/{id}/messages`` and ``…/{message_id}/retry``.

A reply is stored as an outbound message, ``queued``, with its author, and the
call answers 202 at once: the table's stream queues the send and the delivery
worker sends it through the ticket's channel (:mod:`chalicelib.outbound`). A
note (``internal: true``) is stored the same way and never sent. A repeated
``client_message_id`` answers with the first reply as it is now and stores
nothing new. Only a ``failed`` reply can be retried; the retry sends it again
under a new generation (a job of the failed send that comes back sends nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from switchboard_sdk import AttachmentRef, Conflict

from ..outbound.posting import MessagePoster
from ..storage.store import TicketStore
from ..tenancy.retention import TenantRetention
from .access import ADMIN_SCOPES, REPLY_SCOPES, Access, ApiCall
from .visibility import EVERYONE, Visibility

MAX_REPLY_CHARS = 50_000  # a long email; every item (and its client_message_id claim) stays far below 400 KB


class ReplyAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=255)


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=MAX_REPLY_CHARS)
    attachments: list[ReplyAttachment] = Field(default_factory=list, max_length=10)
    internal: bool = False
    client_message_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[!-~]+$")

    @model_validator(mode="after")
    def _says_something(self) -> ReplyRequest:
        if not self.text.strip() and not self.attachments:
            raise ValueError("a reply needs text or an attachment")
        return self


class ReplyApi:
    def __init__(self, access: Access, store: TicketStore, retention: TenantRetention,
                 clock: Callable[[], datetime], visibility: Visibility = EVERYONE) -> None:
        self._visibility = visibility
        self._access = access
        self._store = store
        self._clock = clock
        self._poster = MessagePoster(store, retention, clock)

    def post(self, call: ApiCall, ticket_id: str) -> dict[str, Any]:
        caller = self._access.tenant(call, ADMIN_SCOPES | REPLY_SCOPES)
        request = call.json(ReplyRequest)
        ticket = self._store.reads(caller.tenant_id, self._visibility.scope(caller)).ticket(ticket_id)
        stored = self._poster.post(
            ticket, request.text, author_id=caller.author_id, author_name=caller.author_name,
            internal=request.internal, client_message_id=request.client_message_id,
            attachments=[AttachmentRef(url=str(a.url), filename=a.filename, content_type=a.content_type)
                         for a in request.attachments])
        return {"message": stored.model_dump(mode="json")}

    def retry(self, call: ApiCall, ticket_id: str, message_id: str) -> dict[str, Any]:
        caller = self._access.tenant(call, ADMIN_SCOPES | REPLY_SCOPES)
        self._store.reads(caller.tenant_id, self._visibility.scope(caller)).ticket(ticket_id)  # 404 if not theirs
        replies = self._store.replies(caller.tenant_id)
        message = replies.find(ticket_id, message_id)
        if message.direction != "outbound" or message.internal:
            raise Conflict("only replies to customers can be sent again")
        if not replies.retry(message, at=self._clock()):
            raise Conflict(f"only a failed reply can be sent again; this one is {message.status}")
        return {"message": replies.get(ticket_id, message.received_at, message.id).model_dump(mode="json")}
