"""A fake Odoo on 127.0.0.1: both external APIs over one in-memory database.

Endpoints, each as documented by Odoo:

* ``POST /json/2/<model>/<method>`` — the External JSON-2 API (Odoo 19,
  ``developer/reference/external_api``): ``Authorization: bearer <API key>``,
  optional ``X-Odoo-Database``, a JSON object of named arguments plus ``ids`` and
  ``context``; 200 with the JSON result, or 4xx/5xx with the error object
  ``{"name", "message", "arguments", "context", "debug"}``.
* ``POST /jsonrpc`` — the legacy external RPC API (Odoo ≤ 18, "External RPC API",
  deprecated in 19): JSON-RPC 2.0 ``call`` of ``common.login`` /
  ``common.authenticate(db, login, password, env)`` (uid or ``false``) and
  ``object.execute_kw(db, uid, password, model, method, args, kwargs)``; errors
  come with HTTP 200 as ``{"error": {"code": 200, "message": "Odoo Server Error",
  "data": {"name": "odoo.exceptions.AccessDenied", ...}}}`` (``odoo/http.py``).

Methods: ``search_read``, ``search``, ``create``, ``write`` (ORM), ``message_post``
(``mail.thread``: appends a ``mail.message``), ``context_get`` (``res.users``) and
``ir.model`` ``search_read``. Domains support ``=``, ``in``, ``ilike``, ``=ilike``.
``create`` and ``write`` on tickets and leads check, like Odoo's ORM, that ``priority`` is
a value of its selection (``'0'``..``'3'``), ``stage_id`` a ``helpdesk.stage`` /
``crm.stage`` record and ``user_id`` a ``res.users`` record or ``False``
(``ValidationError`` / ``MissingError`` otherwise); ``stages`` and ``users`` name the seeded ids.

Switches (change them while it runs): ``json2_enabled`` (False: an old server,
``/json/2`` answers 404), ``helpdesk_installed`` (False: no Helpdesk app),
``access_denied`` (JSON-2 401 / JSON-RPC ``AccessDenied``, echoing the presented
key so tests can prove redaction), ``status`` (answer every request with it, e.g.
500/503), ``retry_after``, ``delay`` (seconds before answering) and ``raise_on``
(method → exception name raised by that method).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from switchboard_sdk.testing import Recorded, Reply, StatusServer

API_KEY = "6578616d706c65206a736f6e20617069206b6579"  # the docs' example key
DATABASE = "acme"
LOGIN = "switchboard-bot@acme.example"
UID = 7
MODELS = ("res.partner", "helpdesk.ticket", "crm.lead", "mail.message", "helpdesk.stage", "crm.stage", "res.users")
# what a new database has: Helpdesk's and CRM's default stages, two internal users
STAGES = {"helpdesk.stage": ("New", "In Progress", "On Hold", "Solved", "Cancelled"),
          "crm.stage": ("New", "Qualified", "Proposition", "Won")}
USERS = ("Mitchell Admin", "Marc Demo")
PRIORITIES = frozenset({"0", "1", "2", "3"})  # the priority selection of helpdesk.ticket and crm.lead
RECORD_LINKS = {"helpdesk.ticket": "helpdesk.stage", "crm.lead": "crm.stage"}
# JSON-2 statuses by exception, as Odoo 19's /json/2 controller answers them
JSON2_STATUS = {"AccessDenied": 401, "AccessError": 403, "MissingError": 404, "UserError": 422, "ValidationError": 422}
# positional argument names of execute_kw ``args`` after the record ids
POSITIONAL = {"search_read": ["domain", "fields"], "search": ["domain"], "create": ["vals_list"], "write": ["vals"]}
RECORD_METHODS = frozenset({"write", "message_post"})


class OdooFault(Exception):
    """An ``odoo.exceptions`` error raised by a fake method."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


class FakeOdoo:
    """``with FakeOdoo() as odoo:`` serves on ``odoo.url`` until the block ends."""

    def __init__(self, *, api_key: str = API_KEY, database: str = DATABASE, login: str = LOGIN) -> None:
        self.api_key, self.database, self.login = api_key, database, login
        self.json2_enabled = self.helpdesk_installed = True
        self.access_denied = False
        self.status: int | None = None
        self.retry_after: str | None = None
        self.delay = 0.0
        self.raise_on: dict[str, str] = {}
        self.db: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in MODELS}
        self.calls: list[tuple[str, str, str]] = []  # (endpoint, model or service, method)
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self.stages = {(model, name): self._insert(model, {"name": name}) for model, names in STAGES.items()
                       for name in names}
        self.users = {name: self._insert("res.users", {"name": name}) for name in USERS}
        self._server = StatusServer(respond=self._reply)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeOdoo:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    # -- inspection -------------------------------------------------------------------

    def rows(self, model: str) -> list[dict[str, Any]]:
        return list(self.db[model].values())

    def methods(self) -> list[str]:
        """``model.method`` of every ORM call so far (either API)."""
        return [f"{target}.{method}" for endpoint, target, method in self.calls if target != "common"]

    def seed(self, model: str, **vals: Any) -> int:
        with self._lock:
            return self._insert(model, vals)

    # -- the ORM ------------------------------------------------------------------------

    def installed(self) -> list[str]:
        # a test drops a model from ``db`` to uninstall its app
        return [m for m in self.db if not m.startswith("helpdesk.") or self.helpdesk_installed]

    def execute(self, model: str, method: str, ids: list[int] | None, kwargs: dict[str, Any]) -> Any:
        if method in self.raise_on:
            raise OdooFault(self.raise_on[method], f"{method} refused by the fake")
        if model == "ir.model" and method == "search_read":
            return [{"id": i + 1, "model": m} for i, m in enumerate(self.installed())
                    if _matches({"model": m}, kwargs.get("domain", []), {})]
        if model == "res.users" and method == "context_get":
            return {"lang": "en_US", "tz": "UTC", "uid": UID}
        if model not in self.installed():
            raise OdooFault("builtins.KeyError", model)
        with self._lock:
            return self._orm(model, method, ids or [], kwargs)

    def _orm(self, model: str, method: str, ids: list[int], kwargs: dict[str, Any]) -> Any:
        if method in ("search_read", "search"):
            found = self._search(model, kwargs)
            return found if method == "search_read" else [row["id"] for row in found]
        if method == "create":
            vals_list = kwargs["vals_list"]
            for vals in vals_list if isinstance(vals_list, list) else [vals_list]:
                self._check_vals(model, vals)
            return [self._insert(model, v) for v in vals_list] if isinstance(vals_list, list) else self._insert(
                model, vals_list)
        missing = [i for i in ids if i not in self.db[model]]
        if missing:
            raise OdooFault("odoo.exceptions.MissingError", f"Record does not exist: {model}{missing}")
        if method == "write":
            self._check_vals(model, kwargs["vals"])
            for i in ids:
                self.db[model][i].update(kwargs["vals"])
            return True
        if method == "message_post":
            return self._insert("mail.message", {"model": model, "res_id": ids[0], **kwargs})
        raise OdooFault("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'")

    def _check_vals(self, model: str, vals: dict[str, Any]) -> None:
        if model not in RECORD_LINKS:
            return
        if "priority" in vals and vals["priority"] not in PRIORITIES:
            wrong = f"Wrong value for {model}.priority: {vals['priority']!r}"
            raise OdooFault("odoo.exceptions.ValidationError", wrong)
        if "stage_id" in vals and vals["stage_id"] not in self.db[RECORD_LINKS[model]]:
            raise OdooFault("odoo.exceptions.MissingError", f"Record does not exist: {RECORD_LINKS[model]}")
        if vals.get("user_id") not in (None, False) and vals["user_id"] not in self.db["res.users"]:
            raise OdooFault("odoo.exceptions.MissingError", "Record does not exist: res.users")

    def _search(self, model: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        context = kwargs.get("context") or {}
        rows = [r for r in self.db[model].values() if _matches(r, kwargs.get("domain", []), context)]
        return [dict(r) for r in rows[: kwargs.get("limit") or None]]

    def _insert(self, model: str, vals: dict[str, Any]) -> int:
        record_id, self._next_id = self._next_id, self._next_id + 1
        self.db[model][record_id] = {"id": record_id, "active": True, **vals}
        return record_id

    # -- HTTP -------------------------------------------------------------------------------

    def _reply(self, request: Recorded) -> Reply:
        self.headers.append(dict(request.headers))
        status, answer = self.answer(request.path, dict(request.headers), request.body)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        return Reply(status, json.dumps(answer).encode(), headers, delay=self.delay)

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if self.status is not None:
            return self.status, {"name": "werkzeug.exceptions.ServiceUnavailable", "message": "try later"}
        if path.startswith("/json/2/"):
            return self._json2(path, headers, body)
        if path == "/jsonrpc":
            return self._jsonrpc(json.loads(body))
        return 404, {"name": "werkzeug.exceptions.NotFound", "message": "404 Not Found"}

    def _json2(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        model, _, method = path.removeprefix("/json/2/").partition("/")
        self.calls.append(("json2", model, method))
        if not self.json2_enabled:
            return 404, _error("werkzeug.exceptions.NotFound", "404 Not Found")
        presented = headers.get("authorization", "").partition(" ")[2]
        if self.access_denied or presented != self.api_key:
            return 401, _error("werkzeug.exceptions.Unauthorized", f"Invalid apikey {presented}")
        if model not in (*self.installed(), "ir.model", "res.users"):
            return 404, _error("werkzeug.exceptions.NotFound", f"no model {model}")
        kwargs = json.loads(body)
        ids = kwargs.pop("ids", None)
        try:
            return 200, self.execute(model, method, ids, kwargs)
        except OdooFault as fault:
            return JSON2_STATUS.get(fault.name.rpartition(".")[2], 500), _error(fault.name, fault.message)

    def _jsonrpc(self, request: dict[str, Any]) -> tuple[int, Any]:
        params = request["params"]
        service, method, args = params["service"], params["method"], params["args"]
        self.calls.append(("jsonrpc", service, method))
        try:
            result = self._service(service, method, args)
        except OdooFault as fault:
            error = {"code": 200, "message": "Odoo Server Error", "data": _error(fault.name, fault.message)}
            return 200, {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
        return 200, {"jsonrpc": "2.0", "id": request.get("id"), "result": result}

    def _service(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common" and method in ("login", "authenticate"):
            db, login, password = args[:3]
            good = (db, login, password) == (self.database, self.login, self.api_key) and not self.access_denied
            return UID if good else False
        if service != "object" or method != "execute_kw":
            raise OdooFault("werkzeug.exceptions.NotFound", f"no {service}.{method}")
        db, uid, password, model, orm_method, orm_args, kwargs = (*args, {})[:7]
        if (db, uid, password) != (self.database, UID, self.api_key) or self.access_denied:
            raise OdooFault("odoo.exceptions.AccessDenied", f"Access Denied for {password}")
        self.calls[-1] = ("jsonrpc", model, orm_method)
        ids = orm_args[0] if orm_method in RECORD_METHODS else None
        rest = orm_args[1:] if orm_method in RECORD_METHODS else orm_args
        named = dict(zip(POSITIONAL.get(orm_method, []), rest, strict=False))
        return self.execute(model, orm_method, ids, named | kwargs)


def _error(name: str, message: str) -> dict[str, Any]:
    return {"name": name, "message": message, "arguments": [message], "context": {}, "debug": "Traceback ..."}


def _matches(row: dict[str, Any], domain: list[Any], context: dict[str, Any]) -> bool:
    if context.get("active_test", True) and row.get("active") is False:
        return False
    return all(_leaf(row.get(field), op, value) for field, op, value in domain)


def _leaf(actual: Any, op: str, value: Any) -> bool:
    if op == "=":
        return bool(actual == value)
    if op == "in":
        return actual in value
    if op in ("ilike", "=ilike"):
        text, wanted = str(actual or "").lower(), str(value).lower()
        return wanted in text if op == "ilike" else text == wanted
    raise OdooFault("builtins.ValueError", f"the fake does not support the operator {op!r}")


def serve() -> Iterator[FakeOdoo]:
    """A pytest fixture body: a fresh fake per test, stopped after it."""
    with FakeOdoo() as fake:
        yield fake
