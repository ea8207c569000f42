"""Training, asynchronously: one SQS job per knowledge change, one model per tenant and version.

:class:`TrainingQueue` sends ``{"tenant_id", "knowledge_version"}`` after every change
(and for ``POST /v1/knowledge/train``) and marks the tenant's state ``queued``.
:class:`AssistantTrainer` is the ``train_assistants`` function (batch size 1, 15 minutes,
2 GB): a job is skipped when a model of its version or newer is in place, or when the
base moved on (the newer change sent a job of its own); otherwise it records
``training``, loads the base (one Query), has the tenant's enabled assistant plugin
train on it, puts the model's bytes in S3 under a new immutable key
(:func:`~.knowledge_keys.model_object`) and swaps the pointer
(:meth:`~.training_state.ModelRecords.swap`: only to a newer version).

A job that can never succeed (no assistant enabled, fewer than two intents, the
plugin refusing the base) is recorded ``failed`` with its reason, once, and consumed;
one that failed for a passing reason (throttling, S3 or DynamoDB unavailable) is
reported in ``batchItemFailures`` and comes back.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from switchboard_sdk import InvalidInput, NotFound, PluginRegistry, SwitchboardError, Unavailable
from switchboard_sdk.assistant import KnowledgeBase, TrainedModel

from ..logs import log_context, log_event
from ..storage.aws import error_code
from ..storage.conventions import iso
from ..tenancy.tenants import TenantDirectory
from . import knowledge_keys as kb_keys
from .knowledge_store import KnowledgeStore
from .models_store import assistant_config, enabled_assistant
from .training_state import ModelPointer, ModelRecords, TrainingState

log = logging.getLogger(__name__)
Report = dict[str, list[dict[str, str]]]
_REFUSED = frozenset({"ValidationException", "SerializationException", "InvalidParameterValue",
                      "MissingParameter", "MessageTooLong", "AccessDenied", "AccessDeniedException",
                      "NoSuchBucket", "ResourceNotFoundException"})


class TrainingFailed(Exception):
    """Training this base can never succeed as it is; the message is for the tenant's admins."""


class TrainingQueue:
    """Sends training jobs and marks them queued."""

    def __init__(self, sqs: Any, queue_url: str, records: Callable[[str], ModelRecords],
                 clock: Callable[[], datetime]) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._records = records
        self._clock = clock

    def enqueue(self, tenant_id: str, knowledge_version: int) -> None:
        if not self._url:
            raise Unavailable("no training queue is configured (SWITCHBOARD_TRAINING_QUEUE_URL)")
        body = json.dumps({"tenant_id": tenant_id, "knowledge_version": knowledge_version})
        self._sqs.send_message(QueueUrl=self._url, MessageBody=body)
        self._records(tenant_id).set_state(TrainingState(state="queued", knowledge_version=knowledge_version,
                                                         at=iso(self._clock())))
        log_event(log, "assistant.training_queued", tenant=tenant_id, knowledge_version=knowledge_version)


class AssistantTrainer:
    def __init__(self, tenants: TenantDirectory, registry: PluginRegistry, knowledge: Callable[[str], KnowledgeStore],
                 records: Callable[[str], ModelRecords], s3: Any, bucket: str, clock: Callable[[], datetime]) -> None:
        self._tenants = tenants
        self._registry = registry
        self._knowledge = knowledge
        self._records = records
        self._s3 = s3
        self._bucket = bucket
        self._clock = clock

    def process(self, records: Iterable[dict[str, Any]]) -> Report:
        """SQS messages of training jobs; the ones to try again in ``batchItemFailures``."""
        failed: list[dict[str, str]] = []
        for record in records:
            try:
                job = json.loads(record["body"])
                tenant_id, version = str(job["tenant_id"]), int(job["knowledge_version"])
            except (KeyError, TypeError, ValueError):
                log.error("training message %s is malformed and is dropped", record.get("messageId"))
                continue
            with log_context(tenant=tenant_id):
                if not self.train(tenant_id, version):
                    failed.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failed}

    def train(self, tenant_id: str, version: int) -> bool:
        """One job; ``False`` when it failed for a passing reason (to be retried)."""
        try:
            self._train(tenant_id, version)
        except TrainingFailed as err:
            self._fail(tenant_id, version, str(err))
        except Exception as err:
            if _transient(err):
                log_event(log, "assistant.training_retry", level=logging.WARNING, knowledge_version=version,
                          reason=type(err).__name__, code=error_code(err) or None)
                return False
            log.exception("training of knowledge version %s failed", version)
            self._fail(tenant_id, version, f"training failed ({type(err).__name__}); the hub's logs say more")
        return True

    def _train(self, tenant_id: str, version: int) -> None:
        records = self._records(tenant_id)
        if self._stale(tenant_id, version, records):
            return
        plugin, config = self._assistant(tenant_id)
        records.set_state(TrainingState(state="training", knowledge_version=version, at=iso(self._clock())))
        base = self._knowledge(tenant_id).load()
        if base.version != version:
            log_event(log, "assistant.training_skipped", knowledge_version=version, reason="knowledge moved on")
            return
        _check_trainable(base)
        try:
            model = self._registry.train(plugin, base, config)
        except InvalidInput as err:
            raise TrainingFailed(f"the assistant refused the knowledge base: {err}") from None
        pointer = self._store(tenant_id, plugin, version, model)
        swapped = records.swap(pointer)
        records.set_state(TrainingState(state="ready", knowledge_version=version, at=pointer.trained_at))
        log_event(log, "assistant.trained", plugin=plugin, knowledge_version=version, labels=pointer.labels,
                  bytes=pointer.size, swapped=swapped, threshold=round(pointer.threshold, 4))

    def _stale(self, tenant_id: str, version: int, records: ModelRecords) -> bool:
        pointer = records.pointer()
        if pointer is not None and pointer.knowledge_version >= version:
            reason = "a model of this version or newer is in place"
        elif self._knowledge(tenant_id).meta().version > version:
            reason = "the knowledge base moved on: a newer job trains it"
        else:
            return False
        log_event(log, "assistant.training_skipped", knowledge_version=version, reason=reason)
        return True

    def _assistant(self, tenant_id: str) -> tuple[str, Any]:
        try:
            tenant = self._tenants.load(tenant_id)
        except NotFound:
            raise TrainingFailed("the tenant no longer exists") from None
        plugin = enabled_assistant(self._tenants, tenant)
        if plugin is None:
            raise TrainingFailed("no assistant plugin is enabled (switchboard plugins enable faq)")
        try:
            return plugin, assistant_config(self._tenants, tenant, plugin)
        except (SwitchboardError, TypeError) as err:
            if isinstance(err, SwitchboardError) and err.retryable:
                raise
            raise TrainingFailed(f"the assistant's config is not usable: {err}") from None

    def _store(self, tenant_id: str, plugin: str, version: int, model: TrainedModel) -> ModelPointer:
        digest = hashlib.sha256(model.data).hexdigest()
        key = kb_keys.model_object(tenant_id, version, digest)
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=model.data, ContentType="application/octet-stream")
        return ModelPointer(plugin=plugin, knowledge_version=version, object_key=key, sha256=digest,
                            threshold=model.threshold, labels=len(model.labels), figures=dict(model.figures),
                            trained_at=iso(self._clock()), size=len(model.data))

    def _fail(self, tenant_id: str, version: int, reason: str) -> None:
        log_event(log, "assistant.training_failed", level=logging.WARNING, knowledge_version=version, reason=reason)
        self._records(tenant_id).set_state(TrainingState(state="failed", knowledge_version=version,
                                                         at=iso(self._clock()), error=reason))


def _check_trainable(base: KnowledgeBase) -> None:
    labels = {label for _, label in base.labelled()}
    if len(labels) < 2:
        raise TrainingFailed(f"the knowledge base needs at least two intents or articles to tell apart "
                             f"(it has {len(labels)})")


def _transient(err: Exception) -> bool:
    """Whether ``err`` may pass by itself: throttling, a service unavailable, a connection."""
    if isinstance(err, SwitchboardError):
        return err.retryable
    code = error_code(err)
    if code:
        return code.rsplit(".", 1)[-1] not in _REFUSED
    if type(err).__module__.startswith("botocore"):
        return type(err).__name__ not in {"ParamValidationError", "ValidationError"}
    return isinstance(err, (ConnectionError, TimeoutError))
