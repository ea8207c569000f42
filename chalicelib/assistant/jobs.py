"""Answering jobs: the stream's side of the assistant.

The table's stream offers every inserted message item (:class:`AssistantJobs`, the
pipeline's ``AssistantHooks``); a customer's message of a tenant whose assistant is
enabled becomes a job — the tenant, the ticket, the message and when it arrived, nothing
the customer wrote — and the batch's jobs go to the assistant's queue together
(``SendMessageBatch``, ten a call) when the stream batch ends. The answering function
reads the message back (:mod:`.responder`), never on the webhook path.

Whether a tenant has an assistant comes from the tenant record the container already
caches (``enabled``): a tenant without one costs no AWS call here. A job sent twice (a
stream record delivered twice, a batch retried) is harmless: the responder is idempotent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import InvalidInput, Unavailable

from ..logs import log_event
from ..storage.aws import SQS_BATCH

log = logging.getLogger(__name__)
ANSWERED_KINDS = frozenset({"message"})  # what the assistant answers (not calls, voicemails, bounces)


@dataclass(frozen=True)
class AnswerJob:
    """One customer message to answer (ids only: the responder reads the message back)."""

    tenant_id: str
    ticket_id: str
    message_id: str
    received_at: str

    def body(self) -> str:
        return json.dumps({"tenant_id": self.tenant_id, "ticket_id": self.ticket_id,
                           "message_id": self.message_id, "received_at": self.received_at})

    @classmethod
    def parse(cls, body: str) -> AnswerJob:
        """A job from its queue body; :class:`InvalidInput` when it is not one (it never will be)."""
        try:
            data = json.loads(body)
            job = cls(**{name: str(data[name]) for name in ("tenant_id", "ticket_id", "message_id", "received_at")})
            datetime.fromisoformat(job.received_at.replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError) as err:
            raise InvalidInput("not an answering job") from err
        return job


def is_customer_message(image: dict[str, Any]) -> bool:
    """A customer's own words, new on the ticket: inbound, a plain message with text, not
    an agent's note, not a merge's copy (answered on its first ticket already)."""
    return image.get("type") == "message" and image.get("direction") == "inbound" \
        and image.get("kind", "message") in ANSWERED_KINDS and not image.get("internal") \
        and not image.get("moved_from") and bool(image.get("text") or "parts" in image)


def job_of(image: dict[str, Any]) -> AnswerJob:
    return AnswerJob(tenant_id=str(image["tenant_id"]), ticket_id=str(image["ticket_id"]),
                     message_id=str(image["id"]), received_at=str(image["received_at"]))


class AssistantJobs:
    """Collects a stream batch's answering jobs and sends them at its end."""

    def __init__(self, sqs: Any, queue_url: str, enabled: Callable[[str], bool]) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._enabled = enabled
        self._jobs: list[AnswerJob] = []

    def begin(self) -> None:
        self._jobs = []

    def on_message(self, image: dict[str, Any]) -> bool:
        """Keep a job for ``image`` if it is a customer's message of a tenant with an assistant."""
        if not is_customer_message(image) or not self._enabled(str(image["tenant_id"])):
            return False
        self._jobs.append(job_of(image))
        return True

    def flush(self) -> int:
        """Send the batch's jobs; how many. :class:`Unavailable` if SQS did not take them all
        (the stream retries the batch: the ones sent are sent again, harmlessly)."""
        jobs, self._jobs = list(dict.fromkeys(self._jobs)), []
        for start in range(0, len(jobs), SQS_BATCH):
            self.send(jobs[start:start + SQS_BATCH])
        if jobs:
            log_event(log, "assistant.jobs_queued", jobs=len(jobs))
        return len(jobs)

    def send(self, jobs: list[AnswerJob]) -> None:
        """Up to ten jobs in one call."""
        entries = [{"Id": str(n), "MessageBody": job.body()} for n, job in enumerate(jobs)]
        failed = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries).get("Failed", [])
        if failed:
            codes = sorted({str(f.get("Code", "")) for f in failed})
            raise Unavailable(f"{len(failed)} answering jobs not queued ({', '.join(codes)})")
