"""AWS calls, capacity units and requests by phase, and what they cost at list prices.

:class:`Meter` hooks a boto3 session (register it before the hub builds any client:
every client built from the session copies the handlers) and books each API call under
the current :data:`phases.PHASE`:

* ``calls``: one per API call (``before-parameter-build``: once per call, retries excluded).
* DynamoDB capacity, *estimated* from the items themselves, by DynamoDB's size rules
  (attribute names + values, :func:`item_size`): a write is one WRU per started KB of
  the item (PutItem: the item sent; UpdateItem/DeleteItem: the item's last size seen,
  else 1 KB), a transaction's every item twice; a read is one RRU per started 4 KB of
  what came back (a Query sums its items first; a miss costs the minimum), halved when
  eventually consistent, doubled in a transaction. Real DynamoDB may round differently
  (an update is billed on the larger of the item before and after).
* SQS requests: one per started 64 KB of payload in a send, one per other call; a
  ``ReceiveMessage`` that came back empty is booked apart (``empty_receives``): it is
  the pollers' idle cost, not the messages'.
* S3: PUT/COPY/POST/LIST class and GET class requests.

:data:`PRICES` are AWS list prices, us-east-1, with the date they were checked.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from phases import PHASE

# AWS list prices, us-east-1 (N. Virginia), USD; checked 2026-12-07.
# DynamoDB on-demand: halved on 2024-11-01 (from $1.25 / $0.25 per million); pricing page
# aws.amazon.com/dynamodb/pricing/on-demand/ (the rates are client-rendered there; the figures
# below are those reported for us-east-1 since the cut, e.g. airbyte.com 2025-07-21, jusdb.com
# 2025-08-19). DynamoDB Streams GetRecords made by a Lambda trigger are free.
# Lambda x86: aws.amazon.com/lambda/pricing/ ($0.20 per million requests, $0.0000166667 per GB-s).
# API Gateway REST API: aws.amazon.com/api-gateway/pricing/ ($3.50 per million, first 333 million).
# SQS FIFO: aws.amazon.com/sqs/pricing/ ($0.50 per million requests, each 64 KB chunk a request;
# cloudburn.io 2026-03-14, factualminds.com 2026-06-13). S3 Standard: $0.005 per 1,000 PUT/COPY/
# POST/LIST, $0.0004 per 1,000 GET. Free tiers are left out.
PRICES_CHECKED = "2026-12-07"
PRICES: dict[str, float] = {
    "apigw_rest_request": 3.50e-6,
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000166667,
    "ddb_wru": 0.625e-6,
    "ddb_rru": 0.125e-6,
    "sqs_fifo_request": 0.50e-6,
    "s3_put_request": 0.005e-3,
    "s3_get_request": 0.0004e-3,
}
KB = 1024
SQS_CHUNK = 64 * KB
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
S3_GETS = frozenset({"GetObject", "HeadObject"})


@dataclass
class Usage:
    """What one phase used."""

    calls: Counter[str] = field(default_factory=Counter)  # "dynamodb.PutItem" → calls
    errors: Counter[str] = field(default_factory=Counter)  # "dynamodb.TransactWriteItems TransactionCanceled…"
    wru: float = 0.0
    rru: float = 0.0
    sqs_requests: int = 0
    empty_receives: int = 0
    s3_puts: int = 0
    s3_gets: int = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def add(self, other: Usage) -> None:
        self.calls.update(other.calls)
        self.errors.update(other.errors)
        self.wru += other.wru
        self.rru += other.rru
        self.sqs_requests += other.sqs_requests
        self.empty_receives += other.empty_receives
        self.s3_puts += other.s3_puts
        self.s3_gets += other.s3_gets

    def usd(self) -> float:
        """At :data:`PRICES` (DynamoDB capacity, SQS and S3 requests; not Lambda or API Gateway)."""
        return (self.wru * PRICES["ddb_wru"] + self.rru * PRICES["ddb_rru"]
                + self.sqs_requests * PRICES["sqs_fifo_request"]
                + self.s3_puts * PRICES["s3_put_request"] + self.s3_gets * PRICES["s3_get_request"])


def total(usages: Iterable[Usage]) -> Usage:
    summed = Usage()
    for usage in usages:
        summed.add(usage)
    return summed


class Meter:
    """botocore handlers booking every call under :data:`PHASE` (see the module)."""

    def __init__(self) -> None:
        self.phases: dict[str, Usage] = {}
        self.sizes: dict[str, int] = {}  # an item's key → its last size seen (bytes)

    def install(self, session: Any) -> None:
        session.events.register("before-parameter-build", self._before, unique_id="bench-meter-before")
        session.events.register("after-call", self._after, unique_id="bench-meter-after")

    def clear(self) -> None:
        self.phases.clear()

    def usage(self, prefix: str = "") -> dict[str, Usage]:
        """The phases whose name starts with ``prefix``."""
        return {name: usage for name, usage in self.phases.items() if name.startswith(prefix)}

    def _now(self) -> Usage:
        return self.phases.setdefault(PHASE.get(), Usage())

    def _before(self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        context["bench_params"] = params
        usage = self._now()
        usage.calls[f"{service}.{operation}"] += 1
        if service == "dynamodb" and operation in WRITES:
            usage.wru += self._write_units(operation, params)
        elif service == "sqs" and operation != "ReceiveMessage":
            usage.sqs_requests += _sqs_requests(operation, params)
        elif service == "s3":
            if operation in S3_GETS:
                usage.s3_gets += 1
            else:
                usage.s3_puts += 1

    def _after(self, parsed: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        params: Mapping[str, Any] = context.get("bench_params") or {}
        if "Error" in parsed:  # refused calls are billed too (a failed condition consumes its write)
            self._now().errors[f"{service}.{operation} {parsed['Error'].get('Code', '')}"] += 1
        if service == "dynamodb" and operation in READS:
            self._now().rru += _read_units(operation, params, parsed)
        elif service == "sqs" and operation == "ReceiveMessage":
            usage = self._now()
            if parsed.get("Messages"):
                usage.sqs_requests += 1
            else:
                usage.empty_receives += 1

    def _write_units(self, operation: str, params: Mapping[str, Any]) -> float:
        if operation == "PutItem":
            return self._put(params["Item"])
        if operation in ("UpdateItem", "DeleteItem"):
            return self._known(params["Key"])
        if operation == "BatchWriteItem":
            return sum(self._put(w["PutRequest"]["Item"]) if "PutRequest" in w else
                       self._known(w["DeleteRequest"]["Key"])
                       for writes in params["RequestItems"].values() for w in writes)
        units = 0.0
        for entry in params.get("TransactItems", []):
            if "Put" in entry:
                units += 2 * self._put(entry["Put"]["Item"])
            else:
                units += 2 * self._known(next(iter(entry.values()))["Key"])
        return units

    def _put(self, item: Mapping[str, Any]) -> float:
        size = item_size(item)
        self.sizes[_key_of(item)] = size
        return max(1, math.ceil(size / KB))

    def _known(self, key: Mapping[str, Any]) -> float:
        return max(1, math.ceil(self.sizes.get(_key_of(key), KB) / KB))


def _key_of(item: Mapping[str, Any]) -> str:
    return f"{json.dumps(item.get('pk'), sort_keys=True)}|{json.dumps(item.get('sk'), sort_keys=True)}"


def _read_units(operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> float:
    if operation == "GetItem":
        return _units(item_size(parsed.get("Item") or {}), bool(params.get("ConsistentRead")))
    if operation in ("Query", "Scan"):
        size = sum(item_size(item) for item in parsed.get("Items", []))
        return _units(size, bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        asked = {table: request.get("ConsistentRead", False) for table, request in params["RequestItems"].items()}
        found = parsed.get("Responses", {})
        units = 0.0
        for table, request in params["RequestItems"].items():
            items = found.get(table, [])
            units += sum(_units(item_size(item), asked[table]) for item in items)
            units += _units(0, asked[table]) * max(0, len(request.get("Keys", [])) - len(items))  # misses
        return units
    return 2 * sum(_units(item_size(r.get("Item") or {}), True) for r in parsed.get("Responses", []))


def _units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


def _sqs_requests(operation: str, params: Mapping[str, Any]) -> int:
    if operation == "SendMessageBatch":
        payload = sum(len(e.get("MessageBody", "").encode()) for e in params.get("Entries", []))
        return max(1, math.ceil(payload / SQS_CHUNK))
    if operation == "SendMessage":
        return max(1, math.ceil(len(params.get("MessageBody", "").encode()) / SQS_CHUNK))
    return 1


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size by DynamoDB's rules (names plus values), from its DynamoDB JSON."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    return 1


def _number_size(number: Any) -> int:
    digits = Decimal(str(number)).as_tuple().digits
    return 1 + math.ceil(len(digits) / 2)
