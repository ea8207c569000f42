"""A fake HubSpot CRM v3 API on 127.0.0.1: exactly the endpoints the ``hubspot`` connector calls.

* ``POST /crm/v3/objects/{contacts,tickets,notes}/search`` — "Search the CRM"
  (developers.hubspot.com/docs/api/crm/search): ``filterGroups`` are OR-ed, their
  ``filters`` AND-ed (operator ``EQ`` only here); ``sorts`` on ``hs_object_id``,
  ``properties``, ``limit``. Answers ``{"total": n, "results": [{"id", "properties", …}]}``.
* ``POST /crm/v3/objects/contacts`` — "Contacts" guide (…/docs/api/crm/contacts):
  a taken email answers 409 ``"Contact already exists. Existing ID: <id>"``.
* ``POST /crm/v3/objects/tickets`` — "Tickets" guide (…/docs/api/crm/tickets):
  ``subject``, ``hs_pipeline``, ``hs_pipeline_stage`` required, the stage must belong to
  the pipeline; ``associations`` to a contact with HUBSPOT_DEFINED type 16.
* ``PATCH /crm/v3/objects/tickets/{id}`` — same guide, "Update tickets"; 404 if unknown.
  ``hs_ticket_priority`` is an enumeration (``LOW``, ``MEDIUM``, ``HIGH``, ``URGENT``: another
  value answers 400 ``INVALID_OPTION``); ``hubspot_owner_id`` must name an owner of the
  account (``owners``) or be ``""`` (no owner).
* ``POST /crm/v3/objects/notes`` — "Notes" guide (…/docs/api/crm/notes): ``hs_timestamp``
  required, ``hs_note_body`` at most 65,536 characters; associations to a ticket, type 228.

Like HubSpot: every call needs ``Authorization: Bearer <token>`` (else 401
``INVALID_AUTHENTICATION``); an unknown property answers 400 ``PROPERTY_DOESNT_EXIST``
(the tenant has "created" the ``switchboard_*`` ones, see ``known``); a duplicate value
of a unique property answers 409; error bodies are ``{"status": "error", "message",
"category", "correlationId"}``. Created ids are numeric strings.

Switches: :meth:`FakeHubSpot.fail` answers the next requests with a status (401, 429
with ``Retry-After``, 500, …); ``delay`` slows every answer; ``search_lag`` hides new
records from search, as HubSpot's index does for a few seconds after a write.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from switchboard_sdk.testing import Recorded as Received
from switchboard_sdk.testing import Reply, StatusServer

OBJECT_TYPES = ("contacts", "tickets", "notes")
_PATH = re.compile(r"^/crm/v3/objects/(contacts|tickets|notes)(?:/(search|\d+))?$")
# (from, type id) → to: the HubSpot-defined default association types the connector uses
ASSOCIATION_TYPES = {("tickets", 16): "contacts", ("notes", 228): "tickets", ("notes", 202): "contacts"}
REQUIRED = {"contacts": set(), "tickets": {"subject", "hs_pipeline", "hs_pipeline_stage"}, "notes": {"hs_timestamp"}}
UNIQUE = {"contacts": {"email", "switchboard_customer_id"}, "tickets": {"switchboard_ticket_id"},
          "notes": {"switchboard_event_id"}}
Answer = tuple[int, dict[str, str], Any]
PRIORITIES = frozenset({"LOW", "MEDIUM", "HIGH", "URGENT"})


def _known_properties() -> dict[str, set[str]]:
    return {
        "contacts": {"email", "phone", "firstname", "lastname", "switchboard_customer_id"},
        "tickets": {"subject", "content", "hs_pipeline", "hs_pipeline_stage", "switchboard_ticket_id",
                    "hs_ticket_priority", "hubspot_owner_id"},
        "notes": {"hs_note_body", "hs_timestamp", "switchboard_event_id"},
    }


class HubSpotError(Exception):
    """An error answer, in HubSpot's shape."""

    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(message)
        self.answer: Answer = (status, {}, {"status": "error", "message": message, "category": category,
                                            "correlationId": "00000000-fake-0000-0000-000000000000"})


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Association:
    from_type: str
    from_id: str
    to_type: str
    to_id: str
    type_id: int


@dataclass
class FakeHubSpot:
    """The fake; use as a context manager (a free port, stopped on exit)."""

    token: str
    delay: float = 0.0
    search_lag: bool = False
    records: dict[str, dict[str, dict[str, str]]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    associations: list[Association] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    known: dict[str, set[str]] = field(default_factory=_known_properties)
    pipelines: dict[str, set[str]] = field(default_factory=lambda: {"0": {"1", "2", "3", "4"}})
    owners: set[str] = field(default_factory=lambda: {"51001", "51002"})

    def __post_init__(self) -> None:
        self._ids = itertools.count(101)
        self._hidden: set[str] = set()
        self._failures: list[tuple[str | None, Answer]] = []
        self._lock = threading.Lock()
        self._server = StatusServer(respond=self._reply)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeHubSpot:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    # -- test controls -----------------------------------------------------------------

    def fail(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None, body: Any = None,
             when: str | None = None) -> None:
        """Answer the next ``times`` requests (only those that are exactly ``when``, e.g.
        ``"POST /crm/v3/objects/tickets"``, if given) with ``status``, before auth, like a gateway."""
        payload = body if body is not None else {"status": "error", "message": f"fake {status}", "category": "X"}
        self._failures.extend([(when, (status, headers or {}, payload))] * times)

    def add(self, object_type: str, properties: dict[str, str]) -> str:
        """A record that exists before the test (visible to search)."""
        record_id = str(next(self._ids))
        self.records[object_type][record_id] = dict(properties)
        return record_id

    def hide_from_search(self, *record_ids: str) -> None:
        """Records written seconds ago: they exist, but search does not return them yet."""
        self._hidden.update(record_ids)

    def associated(self, from_type: str, from_id: str) -> list[tuple[str, str, int]]:
        return [(a.to_type, a.to_id, a.type_id) for a in self.associations
                if (a.from_type, a.from_id) == (from_type, from_id)]

    def calls(self, method: str, path_part: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # -- the API -------------------------------------------------------------------------

    def _reply(self, request: Received) -> Reply:
        status, extra, payload = self.answer(request.method, request.path, request.headers, request.body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        # answered after the work is done: a delayed answer still wrote its record, as HubSpot does
        return Reply(status, data, {"Content-Type": "application/json;charset=utf-8", **extra}, delay=self.delay)

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        with self._lock:
            self.requests.append(Recorded(method, path, headers, _parse(raw)))
            for index, (when, canned) in enumerate(self._failures):
                if when is None or when == f"{method} {path}":
                    del self._failures[index]
                    return canned
            try:
                return self._route(method, path, headers, raw)
            except HubSpotError as err:
                return err.answer

    def _route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        if headers.get("authorization") != f"Bearer {self.token}":
            raise HubSpotError(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
        match = _PATH.match(path)
        body = _parse(raw)
        if match is None or not isinstance(body, dict):
            raise HubSpotError(404 if match is None else 400, "VALIDATION_ERROR", "unknown path or invalid JSON")
        object_type, rest = match.groups()
        if method == "POST" and rest == "search":
            return 200, {}, self._search(object_type, body)
        if method == "POST" and rest is None:
            return 201, {}, self._create(object_type, body)
        if method == "PATCH" and object_type == "tickets" and rest and rest.isdigit():
            return 200, {}, self._update(object_type, rest, body)
        raise HubSpotError(405, "VALIDATION_ERROR", f"{method} {path} is not faked")

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        groups = body.get("filterGroups")
        if not isinstance(groups, list) or not 1 <= len(groups) <= 5:
            raise HubSpotError(400, "VALIDATION_ERROR", "filterGroups: 1 to 5 groups")
        for sort in body.get("sorts", []):
            if sort != {"propertyName": "hs_object_id", "direction": "ASCENDING"}:
                raise HubSpotError(400, "VALIDATION_ERROR", f"sort not faked: {sort}")
        found = [(rid, props) for rid, props in sorted(self.records[object_type].items(), key=lambda i: int(i[0]))
                 if rid not in self._hidden and any(self._matches(object_type, props, g) for g in groups)]
        wanted = body.get("properties", [])
        results = [_public(rid, {k: v for k, v in props.items() if k in wanted}) for rid, props in found]
        return {"total": len(found), "results": results[: int(body.get("limit", 10))]}

    def _matches(self, object_type: str, props: dict[str, str], group: dict[str, Any]) -> bool:
        filters = group.get("filters")
        if not isinstance(filters, list) or not filters:
            raise HubSpotError(400, "VALIDATION_ERROR", "a filter group needs filters")
        for f in filters:
            if f.get("operator") != "EQ" or f.get("propertyName") not in self.known[object_type]:
                raise HubSpotError(400, "VALIDATION_ERROR", f"filter not faked: {f}")
        # HubSpot compares EQ on strings case-insensitively
        return all(props.get(f["propertyName"], "").lower() == str(f.get("value", "")).lower() for f in filters)

    def _create(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        properties = self._checked_properties(object_type, body, required=REQUIRED[object_type])
        links = self._checked_associations(object_type, body.get("associations", []))
        self._check_unique(object_type, properties)
        record_id = str(next(self._ids))
        self.records[object_type][record_id] = properties
        self.associations.extend(Association(object_type, record_id, to, to_id, t) for to, to_id, t in links)
        if self.search_lag:
            self._hidden.add(record_id)
        return _public(record_id, properties)

    def _update(self, object_type: str, record_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if record_id not in self.records[object_type]:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"resource not found: {record_id}")
        properties = self._checked_properties(object_type, body, required=set())
        self.records[object_type][record_id].update(properties)
        return _public(record_id, self.records[object_type][record_id])

    def _checked_properties(self, object_type: str, body: dict[str, Any], required: set[str]) -> dict[str, str]:
        properties = body.get("properties")
        if set(body) - {"properties", "associations"} or not isinstance(properties, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "body: properties (and associations) only")
        unknown = sorted(set(properties) - self.known[object_type])
        if unknown:
            raise HubSpotError(400, "VALIDATION_ERROR", f"PROPERTY_DOESNT_EXIST: {unknown}")
        if missing := sorted(p for p in required if not properties.get(p)):
            raise HubSpotError(400, "VALIDATION_ERROR", f"missing required properties: {missing}")
        if not all(isinstance(v, str) for v in properties.values()):
            raise HubSpotError(400, "VALIDATION_ERROR", "property values must be strings here")
        if object_type == "tickets":
            self._check_stage(properties)
            self._check_options(properties)
        if len(properties.get("hs_note_body", "")) > 65_536:
            raise HubSpotError(400, "VALIDATION_ERROR", "hs_note_body is over 65536 characters")
        return dict(properties)

    def _check_stage(self, properties: dict[str, str]) -> None:
        if "hs_pipeline_stage" not in properties:
            return
        stages = self.pipelines.get(properties.get("hs_pipeline", "0"), set())
        if properties["hs_pipeline_stage"] not in stages:
            raise HubSpotError(400, "VALIDATION_ERROR", "hs_pipeline_stage is not a stage of hs_pipeline")

    def _check_options(self, properties: dict[str, str]) -> None:
        priority = properties.get("hs_ticket_priority")
        if priority is not None and priority not in PRIORITIES:
            message = f"INVALID_OPTION: {priority!r} is not a hs_ticket_priority option"
            raise HubSpotError(400, "VALIDATION_ERROR", message)
        owner = properties.get("hubspot_owner_id")
        if owner and owner not in self.owners:
            raise HubSpotError(400, "VALIDATION_ERROR", f"INVALID_OWNER_ID: no owner {owner!r}")

    def _checked_associations(self, object_type: str, associations: Any) -> list[tuple[str, str, int]]:
        links = []
        items: list[Any] = associations if isinstance(associations, list) else [None]
        for item in items:
            try:
                (kind,) = item["types"]
                type_id, to_id = kind["associationTypeId"], str(item["to"]["id"])
                category_ok = kind["associationCategory"] == "HUBSPOT_DEFINED"
            except (TypeError, KeyError, ValueError) as err:
                raise HubSpotError(400, "VALIDATION_ERROR", f"malformed association: {item}") from err
            to_type = ASSOCIATION_TYPES.get((object_type, type_id))
            if not category_ok or to_type is None or to_id not in self.records[to_type]:
                raise HubSpotError(400, "VALIDATION_ERROR", f"invalid association: {item}")
            links.append((to_type, to_id, type_id))
        return links

    def _check_unique(self, object_type: str, properties: dict[str, str]) -> None:
        for prop in UNIQUE[object_type] & set(properties):
            for rid, props in self.records[object_type].items():
                if props.get(prop, "").lower() == properties[prop].lower():
                    prefix = "Contact already exists" if prop == "email" else f"A record with this {prop} exists"
                    raise HubSpotError(409, "CONFLICT", f"{prefix}. Existing ID: {rid}" if prop == "email" else prefix)


def _public(record_id: str, properties: dict[str, str]) -> dict[str, Any]:
    stamp = "2026-01-02T03:04:05.000Z"
    return {"id": record_id, "properties": {**properties, "hs_object_id": record_id},
            "createdAt": stamp, "updatedAt": stamp, "archived": False}


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None

