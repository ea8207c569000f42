"""AWS clients, created lazily and once per container.

boto3 dominates cold start (docs/architecture.md, "Platform facts"), so nothing
here runs at import time and each client is built on first use. ``endpoint``
points every client at an AWS-compatible emulator (moto's server) for the local
runtime and tests.
"""

from __future__ import annotations

import threading
from typing import Any

SQS_BATCH = 10  # entries one SQS batch call takes (SendMessageBatch, ChangeMessageVisibilityBatch, ...)


class AwsClients:
    def __init__(self, *, region: str, endpoint: str | None = None, session: Any = None) -> None:
        self.region = region
        self.endpoint = endpoint
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._lock:  # boto3 sessions are not thread-safe when creating clients
                client = self._clients.get(service) or self._create(service)
                self._clients[service] = client
        return client

    def use(self, service: str, client: Any) -> None:
        """Inject a ready client for ``service`` (tests, instrumentation)."""
        with self._lock:
            self._clients[service] = client

    def _create(self, service: str) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session.client(service, region_name=self.region, endpoint_url=self.endpoint)

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sqs(self) -> Any:
        return self.client("sqs")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def ssm(self) -> Any:
        return self.client("ssm")


def error_code(err: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_codes(err: Exception) -> list[str]:
    """Why each write of a cancelled ``TransactWriteItems`` failed, in order (``"None"``
    for one that did not); ``[]`` for any other error."""
    if error_code(err) != "TransactionCanceledException":
        return []
    reasons = (getattr(err, "response", None) or {}).get("CancellationReasons") or []
    return [r.get("Code") or "None" for r in reasons]


def is_condition_failure(err: Exception, *, item: int | None = None) -> bool:
    """A write's condition did not hold: a single write's ``ConditionalCheckFailedException``,
    or, with ``item``, a transaction cancelled because that write's condition failed."""
    if item is None:
        return error_code(err) == "ConditionalCheckFailedException"
    codes = cancellation_codes(err)
    return item < len(codes) and codes[item] == "ConditionalCheckFailed"


REPLACEMENTS = 8  # how often a write that lost a race to its chain's head is placed again


def write_together(client: Any, items: list[dict[str, Any]]) -> list[bool]:
    """``TransactWriteItems``: every write or none. Returns, per item, whether its
    condition held; all ``True`` means written. Other failures propagate.

    A write that can place itself again (it has ``rechained()``: an audit record that
    follows its chain's head) and lost only to another writer is placed again and the
    whole write retried, a few times; a failed condition of any other write is the answer."""
    for _ in range(REPLACEMENTS):
        written = _write_once(client, items)
        lost = {i for i, ok in enumerate(written) if not ok}
        if not lost or not all(hasattr(items[i], "rechained") for i in lost):
            return written
        items = [item.rechained() if i in lost else item for i, item in enumerate(items)]  # type: ignore[attr-defined]
    return _write_once(client, items)


def _write_once(client: Any, items: list[dict[str, Any]]) -> list[bool]:
    if len(items) == 1:  # one conditional write needs no transaction
        op, request = next(iter(items[0].items()))
        try:
            {"Put": client.put_item, "Update": client.update_item}[op](**request)
        except Exception as err:
            if is_condition_failure(err):
                return [False]
            raise
        return [True]
    try:
        client.transact_write_items(TransactItems=items)
    except Exception as err:
        codes = cancellation_codes(err)
        # only failed conditions are an answer; a conflict or throttle cancelled
        # a transaction whose conditions may all hold: that is for the caller to retry
        # (a conflict on a write that can place itself again counts as its lost race)
        codes = [_lost_race(code, item) for code, item in zip(codes, items, strict=False)]
        if codes and set(codes) <= {"None", "ConditionalCheckFailed"}:
            return [code != "ConditionalCheckFailed" for code in codes]
        raise
    return [True] * len(items)


def _lost_race(code: str, item: dict[str, Any]) -> str:
    return "ConditionalCheckFailed" if code == "TransactionConflict" and hasattr(item, "rechained") else code
