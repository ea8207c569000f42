"""The OpenAPI pieces of the web chat widget (issue 14): its script and the ``/widget/{tenant}/…``
routes the script calls from the embedding site. No API key: sessions are public (per allowed
origin and rate limited), the rest carry the visitor token a session issued
(``Authorization: Bearer sbv1.…``). Kept beside :mod:`.openapi`, which lists them with the rest."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..widget.actions import CsatRequest, FeedbackRequest, HandOffRequest
from ..widget.service import OutgoingMessage
from ..widget.sessions import SessionRequest
from ..widget.uploads import UploadRequest
from .openapi_types import Operation, Query


class WidgetScript(BaseModel):
    """The widget's script (JavaScript), cached five minutes, then revalidated by its ETag."""


class Preflight(BaseModel):
    """An allowed origin's CORS preflight: no body, the Access-Control-Allow-* headers."""


class WidgetLook(BaseModel):
    welcome: dict[str, str] = Field(description="Greeting per language (en, zh).")
    colour: str
    languages: list[str]
    help_centre_url: str | None


class SessionAnswer(BaseModel):
    token: str = Field(description="The visitor token: `Authorization: Bearer <token>` on the other routes.")
    visitor_id: str
    identity: Literal["visitor", "user"] = Field(description="`user` when the page vouched for a signed-in user.")
    expires_at: str
    config: WidgetLook


class MessageAccepted(BaseModel):
    id: str | None = Field(description="The stored message's id (the same for a resend of its client_message_id).")
    status: Literal["accepted", "quarantined"]


class WidgetAttachment(BaseModel):
    filename: str | None
    content_type: str | None
    size_bytes: int | None


class WidgetMessage(BaseModel):
    id: str
    sender: Literal["visitor", "agent", "assistant", "system"] = Field(alias="from")
    text: str
    at: str
    status: str | None
    author: str | None
    client_message_id: str | None
    attachments: list[WidgetAttachment]


class WidgetSurvey(BaseModel):
    state: Literal["sent", "answered"]
    score: int | None


class PollAnswer(BaseModel):
    cursor: str = Field(description="Pass it back as `after` (and, quoted, as `If-None-Match`).")
    changed: bool = Field(description="false: nothing new for this visitor; keep what is shown.")
    ticket_id: str | None = None
    status: str | None = None
    messages: list[WidgetMessage] | None = None
    survey: WidgetSurvey | None = None


class UploadAnswer(BaseModel):
    key: str = Field(description="Name it in the message's `attachments` once uploaded.")
    url: str = Field(description="POST the file here as multipart/form-data: `fields` first, then `file`.")
    fields: dict[str, Any]
    max_bytes: int
    expires_in: int


class ActionAnswer(BaseModel):
    status: str
    score: int | None = None
    helpful: bool | None = None


VISITOR_ERRORS = (401, 403, 404, 422, 429)
POLL = (Query("after", {"type": "string", "maxLength": 120}, "`cursor` of the previous answer; none: the first poll."),
        Query("pending", {"type": "string", "enum": ["1"]}, "1: a message of this visitor's is not shown yet."),
        Query("open", {"type": "string", "enum": ["1"]}, "1: the widget is open (replies shown are read)."))


def _preflight(path: str, name: str) -> Operation:
    return Operation("options", path, name, "CORS preflight (allowed origins only)", "widget", Preflight,
                     status=204, scopes=(), errors=(403, 404), media_type="text/plain")


WIDGET_OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/widget.js", "widget_script", "The web chat widget's script", "widget", WidgetScript,
              scopes=(), errors=(400, 404), media_type="text/javascript", etag=True),
    Operation("post", "/widget/{tenant}/session", "widget_session", "A visitor token for this site's visitor",
              "widget", SessionAnswer, body=SessionRequest, scopes=(), errors=VISITOR_ERRORS),
    _preflight("/widget/{tenant}/session", "widget_session_preflight"),
    Operation("post", "/widget/{tenant}/messages", "widget_post_message", "A visitor's message (through ingestion)",
              "widget", MessageAccepted, status=202, body=OutgoingMessage, scopes=(),
              errors=(*VISITOR_ERRORS, 413)),
    Operation("get", "/widget/{tenant}/messages", "widget_poll", "The visitor's conversation since a cursor",
              "widget", PollAnswer, query=POLL, scopes=(), errors=(400, 401, 403, 404), etag=True),
    _preflight("/widget/{tenant}/messages", "widget_messages_preflight"),
    Operation("post", "/widget/{tenant}/uploads", "widget_upload", "An S3 presigned POST for one attachment",
              "widget", UploadAnswer, status=201, body=UploadRequest, scopes=(), errors=(*VISITOR_ERRORS, 413)),
    _preflight("/widget/{tenant}/uploads", "widget_upload_preflight"),
    Operation("post", "/widget/{tenant}/csat", "widget_csat", "The visitor's satisfaction score, once", "widget",
              ActionAnswer, body=CsatRequest, scopes=(), errors=(*VISITOR_ERRORS, 409)),
    _preflight("/widget/{tenant}/csat", "widget_csat_preflight"),
    Operation("post", "/widget/{tenant}/feedback", "widget_feedback", "Did the assistant's answer help?", "widget",
              ActionAnswer, body=FeedbackRequest, scopes=(), errors=VISITOR_ERRORS),
    _preflight("/widget/{tenant}/feedback", "widget_feedback_preflight"),
    Operation("post", "/widget/{tenant}/handoff", "widget_handoff", "Talk to a person", "widget", ActionAnswer,
              body=HandOffRequest, scopes=(), errors=VISITOR_ERRORS),
    _preflight("/widget/{tenant}/handoff", "widget_handoff_preflight"),
)
