# ruff: noqa: RUF001  (the assistant's own lines in Chinese as well as English)
"""What the assistant says and how it lets go of a ticket.

:class:`Voice` posts the assistant's messages through the outbound pipeline (the same
``MessagePoster`` as agents' and rules' replies: stored ``queued``, sent by the delivery
worker on the customer's channel), as ``assistant:<plugin>`` / "Assistant", each with a
``client_message_id`` made of the customer's message id and what it is — so a job
delivered twice never sends twice. Its own short lines (not sure, sorry, passing you on)
come in the customer's language (Chinese or English).

:func:`hand_off` releases a held ticket to people: the hand-off notice first, then the
workflow engine's :meth:`~chalicelib.workflow.engine.WorkflowEngine.hand_off` (open, the
intent as category, the ``ticket.created`` rules, assignment) with the decision as the
history entry's cause (``assistant:<message>:handed_off``: once per message, whoever
asks again).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from switchboard_sdk import Message, Ticket

from ..outbound.posting import MessagePoster
from ..workflow.changes import ChangeActor
from ..workflow.service import Cause, Outcome
from .decisions import HANDED_OFF

AUTHOR_NAME = "Assistant"
CJK = re.compile(r"[\u3400-\u9fff]")
LINES: dict[str, dict[str, str]] = {
    "unsure": {
        "en": "Sorry, I'm not sure I understood. Could you rephrase, or type 'agent' to talk to a person?",
        "zh": "抱歉，我没有完全理解您的问题。您可以换个说法再问一次，或输入“人工”转接人工客服。",
    },
    "sorry": {
        "en": "Sorry that didn't help. Could you tell me a little more, or type 'agent' to talk to a person?",
        "zh": "抱歉没能帮到您。您可以再具体描述一下问题，或输入“人工”转接人工客服。",
    },
    "handing_off": {
        "en": "I'm passing you to a colleague, who will reply here as soon as they can.",
        "zh": "正在为您转接人工客服，请稍候，客服会在这里回复您。",
    },
}


class HandsOff(Protocol):
    """The workflow engine's hand-off (chalicelib/workflow/engine.py)."""

    def hand_off(self, ticket: Ticket, message: Message, cause: Cause, *, category: str | None = None) -> Outcome: ...


def line(kind: str, language: str | None) -> str:
    """One of the assistant's own lines in ``language`` (Chinese for ``zh…``, else English)."""
    return LINES[kind]["zh" if (language or "").lower().startswith("zh") else "en"]


def decision_key(message_id: str, kind: str) -> str:
    """The id of a decision about a message: its history cause and its reply's ``client_message_id``."""
    return f"assistant:{message_id}:{kind}"


class Voice:
    def __init__(self, poster: MessagePoster) -> None:
        self._poster = poster

    def say(self, ticket: Ticket, text: str, plugin: str | None, key: str,
            metadata: dict[str, str] | None = None) -> Message:
        """Post ``text`` on ``ticket`` once per ``key`` (a repeat answers with the first post)."""
        return self._poster.post(ticket, text, author_id=f"assistant:{plugin or 'none'}", author_name=AUTHOR_NAME,
                                 client_message_id=key, metadata=metadata)


def text_language(text: str | None) -> str | None:
    """``zh`` for a message with Chinese characters in it, else ``None`` (not known)."""
    return "zh" if text and CJK.search(text) else None


def hand_off(engine: HandsOff, voice: Voice, ticket: Ticket, message: Message, *, plugin: str | None, reason: str,
             intent: str | None, detail: dict[str, Any], language: str | None, notify: bool = True) -> Outcome:
    """Tell the customer a person will answer (unless ``notify`` is false), then release the ticket.
    The entry is dated by the message (its key holds the time: a repeat finds the same one)."""
    key = decision_key(message.id, "handed_off")
    if notify:
        voice.say(ticket, line("handing_off", language), plugin, key)
    cause = Cause(id=key, actor=ChangeActor.assistant(plugin), at=message.received_at, reason=reason,
                  event=HANDED_OFF,
                  detail=detail | {"intent": intent, "reason": reason, "message_id": message.id})
    return engine.hand_off(ticket, message, cause, category=intent)
