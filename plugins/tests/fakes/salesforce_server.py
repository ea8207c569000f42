"""A fake Salesforce org on 127.0.0.1: exactly the endpoints the ``salesforce`` connector calls.

* ``POST /services/oauth2/token`` — Salesforce Help, "OAuth 2.0 Client Credentials
  Flow for Server-to-Server Integration": form-encoded ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``; answers ``{"access_token", "instance_url", "id",
  "token_type", "issued_at", "signature"}`` (no ``expires_in``), or RFC 6749 §5.2
  errors: 400 ``{"error": "invalid_client" | "unsupported_grant_type", "error_description"}``.
* ``PATCH /services/data/vXX.X/sobjects/{SObject}/{ExternalIdField}/{value}`` — REST API
  guide, "Insert or Update (Upsert) a Record Using an External ID": 201 ``created: true``
  or 200 ``created: false`` (API v46.0+), body ``{"id", "success", "errors", "created"}``;
  a field that is not an external id answers 404 ``NOT_FOUND``; a relationship
  ``{"Contact": {"<ext id field>": value}}`` in the body sets ``ContactId`` ("Upserting
  Records and Associating with an External ID").
* ``POST /services/data/vXX.X/sobjects/{SObject}`` — "Create a Record": 201
  ``{"id", "success", "errors"}`` (``CaseComment``: ``ParentId`` required).
* ``POST /services/data/vXX.X/composite`` — "Composite" and "Composite Request Body":
  ``allOrNone``, ``compositeRequest[]`` of ``{method, url, referenceId, body}``,
  ``@{referenceId.field}`` references in urls and bodies, at most 25 subrequests;
  answers 200 ``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode",
  "referenceId"}]}``; with ``allOrNone`` a failure rolls everything back and every
  other subrequest reports 400 ``PROCESSING_HALTED``.

Like Salesforce: every API call needs ``Authorization: Bearer <issued token>`` (else
401 ``INVALID_SESSION_ID``); errors are arrays ``[{"message", "errorCode", "fields"}]``
("Status Codes and Error Responses"): ``INVALID_FIELD`` for an unknown field or a
foreign external id not found, ``REQUIRED_FIELD_MISSING``, ``MALFORMED_ID``,
``INVALID_CROSS_REFERENCE_KEY``, ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`` (Case
Status; ``Priority`` is an unrestricted picklist, as in a new org). ``OwnerId`` must be
one of ``OWNERS`` (users ``005…``, a queue ``00G…``), else ``INVALID_CROSS_REFERENCE_KEY``.
Record ids are 18 characters with the object's key prefix.

Switches: :meth:`FakeSalesforce.expire_tokens` (the next call answers 401 once, a new
token works), ``reject_tokens`` (every call 401), :meth:`fail` (the next API calls
answer a status and error array: 503, 403 ``REQUEST_LIMIT_EXCEEDED``, …),
:meth:`fail_subrequest` (one composite step fails, e.g. ``UNABLE_TO_LOCK_ROW``),
``token_failure`` (the token endpoint's answer), ``delay`` (slow answers).
``requests`` records every request; ``records`` holds the org's data.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from switchboard_sdk.testing import Recorded, Reply, StatusServer

CLIENT_ID = "3MVG9fake.switchboard.consumer.key"
CLIENT_SECRET = "fake-consumer-secret-5f1c2d9e8b7a"  # noqa: S105 - a test fixture
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path
MAX_SUBREQUESTS = 25
CASE_STATUSES = frozenset({"New", "Working", "Escalated", "Closed"})
# Case.OwnerId: a User (005…) or a Queue (00G…) of the org
OWNERS = frozenset({"005000000000001AAA", "005000000000002AAA", "00G000000000001AAA"})
_API = re.compile(r"^/services/data/v([0-9]+\.[0-9])/(.+)$")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}")
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
Answer = tuple[int, Any]


@dataclass(frozen=True)
class SObjectType:
    """The part of an sObject's describe the fake checks."""

    prefix: str
    fields: frozenset[str]
    required: frozenset[str] = frozenset()
    external_ids: frozenset[str] = frozenset()
    lookups: dict[str, str] = field(default_factory=dict)  # field → target sObject
    relationships: dict[str, str] = field(default_factory=dict)  # relationship name → lookup field


SCHEMA = {
    "Contact": SObjectType(
        "003",
        frozenset({"LastName", "FirstName", "Email", "Phone", "Description", "Switchboard_Customer_Id__c"}),
        required=frozenset({"LastName"}),
        external_ids=frozenset({"Switchboard_Customer_Id__c"}),
    ),
    "Case": SObjectType(
        "500",
        frozenset({"Subject", "Description", "Status", "Priority", "Origin", "ContactId", "OwnerId",
                   "Switchboard_Ticket_Id__c"}),
        external_ids=frozenset({"Switchboard_Ticket_Id__c"}),
        lookups={"ContactId": "Contact"},
        relationships={"Contact": "ContactId"},
    ),
    "CaseComment": SObjectType(
        "00a", frozenset({"ParentId", "CommentBody", "IsPublished"}), required=frozenset({"ParentId"}),
        lookups={"ParentId": "Case"},
    ),
    # a custom comment object with an external id, for the connector's upsert mode
    "Switchboard_Comment__c": SObjectType(
        "a01",
        frozenset({"Case__c", "Body__c", "Switchboard_Message_Id__c"}),
        required=frozenset({"Case__c"}),
        external_ids=frozenset({"Switchboard_Message_Id__c"}),
        lookups={"Case__c": "Case"},
        relationships={"Case__r": "Case__c"},
    ),
}


def error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """A Salesforce error array with one entry."""
    return [{"message": message, "errorCode": code, "fields": fields or []}]


class SalesforceError(Exception):
    """An error answer: a status and a Salesforce error array."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.answer: Answer = (status, error(code, message, fields))


@dataclass
class Failure:
    """An injected answer for the next API calls."""

    status: int
    errors: list[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeSalesforce:
    """The fake org; use as a context manager (started on enter, stopped on exit)."""

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self._server = StatusServer(respond=self._reply)
        self.requests: list[Recorded] = self._server.requests  # every request, as the server recorded it
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.reject_tokens = False
        self.delay = 0.0
        self.token_failure: tuple[int, dict[str, Any]] | None = None
        self.failures: list[Failure] = []
        self.subrequest_failures: dict[str, Answer] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- lifecycle ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeSalesforce:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    # -- switches -----------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every issued token stops working (session timeout, revoked): one 401, then a new token."""
        with self._lock:
            self.tokens.clear()

    def fail(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
             times: int = 1) -> None:
        """Answer the next ``times`` API calls with ``status`` and one error.

        ``{authorization}`` in ``message`` is replaced with the request's Authorization
        header, to prove the connector never shows an echoed token.
        """
        self.failures.append(Failure(status, error(code, message), headers or {}, times))

    def fail_subrequest(self, reference_id: str, status: int, code: str, message: str,
                        fields: list[str] | None = None) -> None:
        """Make the composite subrequest with this referenceId fail."""
        self.subrequest_failures[reference_id] = (status, error(code, message, fields))

    # -- reading the org ------------------------------------------------------------

    def all(self, sobject: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self.records[sobject].values()]

    def find(self, sobject: str, field_name: str, value: Any) -> list[dict[str, Any]]:
        return [record for record in self.all(sobject) if record.get(field_name) == value]

    @property
    def api_requests(self) -> list[Recorded]:
        return [request for request in self.requests if request.path != TOKEN_PATH]

    @property
    def token_requests(self) -> list[Recorded]:
        return [request for request in self.requests if request.path == TOKEN_PATH]

    # -- token endpoint ---------------------------------------------------------------

    def token(self, body: bytes) -> Answer:
        if self.token_failure is not None:
            return self.token_failure
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        token = "00D5g000000FAKE!" + secrets.token_urlsafe(32)
        with self._lock:
            self.tokens.add(token)
            self.tokens_issued += 1
        return 200, {
            "access_token": token, "instance_url": self.url, "id": f"{self.url}/id/00D5g000000FAKE/0055g000000RUNAS",
            "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)), "signature": "ZmFrZQ==",
            "scope": "api",
        }

    # -- API -----------------------------------------------------------------------------

    def authorised(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            return scheme == "Bearer" and token in self.tokens and not self.reject_tokens

    def injected(self, headers: dict[str, str]) -> tuple[int, dict[str, str], Any] | None:
        with self._lock:
            if not self.failures:
                return None
            failure = self.failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self.failures.pop(0)
        body = json.loads(json.dumps(failure.errors).replace("{authorization}", headers.get("authorization", "")))
        return failure.status, failure.headers, body

    def api(self, method: str, path: str, body: Any) -> Answer:
        """One REST API request (also a composite subrequest, without composite itself)."""
        match = _API.match(path.partition("?")[0])
        if match is None:
            return 404, error("NOT_FOUND", "The requested resource does not exist")
        parts = [unquote(part) for part in match.group(2).split("/")]
        try:
            with self._lock:
                return self._route(method, parts, body)
        except SalesforceError as err:
            return err.answer

    def _route(self, method: str, parts: list[str], body: Any) -> Answer:
        if parts == ["composite"] and method == "POST":
            return self.composite(body)
        if len(parts) == 2 and parts[0] == "sobjects" and method == "POST":
            return self.create(parts[1], body)
        if len(parts) == 4 and parts[0] == "sobjects" and method == "PATCH":
            return self.upsert(parts[1], parts[2], parts[3], body)
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")

    # -- records ---------------------------------------------------------------------------

    def _type(self, sobject: str) -> SObjectType:
        if sobject not in SCHEMA:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return SCHEMA[sobject]

    def _fields(self, sobject: str, body: Any) -> dict[str, Any]:
        """The body's fields, relationships resolved and lookups and picklists checked."""
        if not isinstance(body, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject")
        kind, fields = self._type(sobject), {}
        for name, value in body.items():
            if name in kind.relationships:
                fields[kind.relationships[name]] = self._related(kind, name, value)
            elif name in kind.fields:
                fields[name] = value
            else:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        for name, target in kind.lookups.items():
            if name in fields:
                self._check_lookup(name, target, fields[name])
        if sobject == "Case" and "OwnerId" in fields and fields["OwnerId"] not in OWNERS:
            raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "Owner ID: owner cannot be blank or unknown",
                                  ["OwnerId"])
        if sobject == "Case" and "Status" in fields and fields["Status"] not in CASE_STATUSES:
            raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                  f"Status: bad value for restricted picklist field: {fields['Status']}", ["Status"])
        return fields

    def _related(self, kind: SObjectType, name: str, value: Any) -> str:
        target = kind.lookups[kind.relationships[name]]
        if not isinstance(value, dict) or len(value) != 1:
            raise SalesforceError(400, "INVALID_FIELD", f"Relationship {name} needs exactly one external id field")
        ((key, wanted),) = value.items()
        if key not in SCHEMA[target].external_ids:
            raise SalesforceError(400, "INVALID_FIELD", f"Field {key} is not an external id field of {target}")
        found = [rid for rid, record in self.records[target].items() if record.get(key) == wanted]
        if not found:
            raise SalesforceError(
                400, "INVALID_FIELD", f"Foreign key external ID: {wanted} not found for field {key} in entity {target}"
            )
        return found[0]

    def _check_lookup(self, name: str, target: str, value: Any) -> None:
        if not isinstance(value, str) or not _ID.match(value):
            raise SalesforceError(400, "MALFORMED_ID", f"{target} ID: id value of incorrect type: {value}", [name])
        if value not in self.records[target]:
            raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])

    def _insert(self, sobject: str, fields: dict[str, Any]) -> str:
        kind = SCHEMA[sobject]
        missing = sorted(name for name in kind.required if not fields.get(name))
        if missing:
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                                  missing)
        record_id = f"{kind.prefix}{next(self._ids):015d}"
        self.records[sobject][record_id] = {"Id": record_id, **fields}
        return record_id

    def create(self, sobject: str, body: Any) -> Answer:
        record_id = self._insert(sobject, self._fields(sobject, body))
        return 201, {"id": record_id, "success": True, "errors": []}

    def upsert(self, sobject: str, key: str, value: str, body: Any) -> Answer:
        if key not in self._type(sobject).external_ids:
            message = f"Provided external ID field does not exist or is not accessible: {key}"
            raise SalesforceError(404, "NOT_FOUND", message)
        fields = self._fields(sobject, body)
        matches = [record for record in self.records[sobject].values() if record.get(key) == value]
        if len(matches) > 1:
            return 300, [f"/services/data/v60.0/sobjects/{sobject}/{record['Id']}" for record in matches]
        if matches:
            matches[0].update(fields)
            return 200, {"id": matches[0]["Id"], "success": True, "errors": [], "created": False}
        record_id = self._insert(sobject, {**fields, key: value})
        return 201, {"id": record_id, "success": True, "errors": [], "created": True}

    # -- composite ---------------------------------------------------------------------------

    def composite(self, body: Any) -> Answer:
        subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        if len(subrequests) > MAX_SUBREQUESTS:
            raise SalesforceError(400, "INVALID_API_INPUT", f"Limit of {MAX_SUBREQUESTS} subrequests exceeded")
        if any(not isinstance(sub, dict) or not sub.get("referenceId") for sub in subrequests):
            raise SalesforceError(400, "INVALID_API_INPUT", "Each subrequest needs a referenceId")
        snapshot = copy.deepcopy(self.records)
        results = self._run_all(subrequests, all_or_none=body.get("allOrNone") is True)
        if body.get("allOrNone") is True and any(result["httpStatusCode"] >= 300 for result in results):
            self.records = snapshot
            results = [_halted(result) if result["httpStatusCode"] < 300 else result for result in results]
        return 200, {"compositeResponse": results}

    def _run_all(self, subrequests: list[dict[str, Any]], *, all_or_none: bool) -> list[dict[str, Any]]:
        values: dict[str, Any] = {}
        results: list[dict[str, Any]] = []
        for sub in subrequests:
            ref = str(sub["referenceId"])
            if all_or_none and any(result["httpStatusCode"] >= 300 for result in results):
                results.append(_halted({"referenceId": ref}))
                continue
            status, answer = self._run_one(sub, values)
            if status < 300:
                values[ref] = answer
            results.append({"body": answer, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref})
        return results

    def _run_one(self, sub: dict[str, Any], values: dict[str, Any]) -> Answer:
        ref = str(sub["referenceId"])
        if ref in self.subrequest_failures:
            return self.subrequest_failures[ref]
        try:
            url, body = _resolve(sub.get("url", ""), values), _resolve(sub.get("body"), values)
        except KeyError as missing:
            return 400, error("PROCESSING_HALTED", f"Invalid reference specified. No value for {missing} found")
        if not str(url).startswith("/services/data/") or str(url).endswith("/composite"):
            return 400, error("INVALID_API_INPUT", f"Unsupported subrequest url: {url}")
        return self.api(str(sub.get("method", "")), str(url), body)

    # -- HTTP ---------------------------------------------------------------------------------

    def _reply(self, request: Recorded) -> Reply:
        status, headers, payload = self.dispatch(request.method, request.path, request.headers, request.body)
        data = b"" if payload is None else json.dumps(payload).encode()
        return Reply(status, data, {"Content-Type": "application/json;charset=UTF-8", **headers}, delay=self.delay)

    def dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        """Route one HTTP request: token endpoint, or an authorised API call."""
        if path == TOKEN_PATH and method == "POST":
            return _with_headers(self.token(body))
        if not self.authorised(headers):
            return 401, {}, error("INVALID_SESSION_ID", "Session expired or invalid")
        injected = self.injected(headers)
        if injected is not None:
            return injected
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            return 400, {}, error("JSON_PARSER_ERROR", "Unexpected character: was expecting JSON")
        return _with_headers(self.api(method, path, decoded))


def _with_headers(answer: Answer) -> tuple[int, dict[str, str], Any]:
    return answer[0], {}, answer[1]


def _halted(result: dict[str, Any]) -> dict[str, Any]:
    message = "The transaction was rolled back since another operation in the same transaction failed."
    return {"body": error("PROCESSING_HALTED", message), "httpHeaders": {}, "httpStatusCode": 400,
            "referenceId": result["referenceId"]}


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with every ``@{ref.field}`` replaced by that earlier result's field."""
    if isinstance(value, str):
        return _REFERENCE.sub(lambda match: str(values[match.group(1)][match.group(2)]), value)
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    return value
