"""``POST /v1/tickets/{id}/macros/{macro_id}``: apply a macro — several actions at once.

The macro's ticket changes go through the workflow (one change, its history entry
naming the macro); its reply (rendered from its template in the ticket's language)
is queued to the customer and its note added. A variable the reply or note needs
and the ticket lacks refuses the whole macro (422 listing them): nothing is changed
or sent. A repeated request with the same ``client_message_id`` sends nothing twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import NotFound

from ..outbound.posting import MessagePoster
from ..storage.store import TicketStore
from ..workflow.service import Cause, WorkflowService
from ..workflow.template_store import TemplateStore
from ..workflow.templates import macro_plan
from .access import Access, ApiCall
from .tickets import ticket_view
from .visibility import EVERYONE, Visibility
from .workflow import WRITE_SCOPES, actor_of


class ApplyMacro(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    client_message_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[!-~]+$")


class MacroApi:
    def __init__(self, access: Access, store: TicketStore, workflow: WorkflowService,
                 templates: Callable[[str], TemplateStore], poster: MessagePoster,
                 tenant_language: Callable[[str], str], clock: Callable[[], datetime],
                 visibility: Visibility = EVERYONE) -> None:
        self._visibility = visibility
        self._access = access
        self._store = store
        self._workflow = workflow
        self._templates = templates
        self._poster = poster
        self._tenant_language = tenant_language
        self._clock = clock

    def apply(self, call: ApiCall, ticket_id: str, macro_id: str) -> dict[str, Any]:
        caller = self._access.tenant(call, WRITE_SCOPES)
        request = call.optional_json(ApplyMacro)
        tenant_id = caller.tenant_id
        templates = self._templates(tenant_id)
        macro = templates.macro(macro_id)
        if macro is None:
            raise NotFound("no such macro")
        code = macro.actions.reply_template
        reads = self._store.reads(tenant_id, self._visibility.scope(caller))
        ticket = reads.ticket(ticket_id)
        plan = macro_plan(macro, templates.template(code) if code else None, ticket,
                          reads.get_customer(ticket.customer_id), caller.author_name, request.language,
                          agent_id=caller.agent.id if caller.agent else None,
                          default_language=self._tenant_language(tenant_id))
        run = request.client_message_id or secrets.token_hex(8)
        answer: dict[str, Any] = {"ticket": ticket_view(ticket), "changes": [], "reply": None, "note": None}
        if not plan.patch.is_empty():
            outcome = self._workflow.change(tenant_id, ticket_id, plan.patch, Cause(
                id=f"macro:{macro_id}:{run}", actor=actor_of(caller), at=self._clock(),
                reason=f"macro {macro.name}"))
            answer |= {"ticket": ticket_view(outcome.ticket), "changes": [c.model_dump(mode="json")
                                                                        for c in outcome.changes]}
        for part, text in (("reply", plan.reply_text), ("note", plan.note)):
            if text:
                posted = self._poster.post(ticket, text, author_id=caller.author_id, author_name=caller.author_name,
                                           internal=part == "note", client_message_id=f"macro:{run}:{part}")
                answer[part] = posted.model_dump(mode="json")
        return answer
