"""Calling Odoo model methods over JSON-2 (Odoo 19+) or the legacy JSON-RPC API.

Both clients expose ``call(model, method, params, ids=None)``: ``params`` are the
method's keyword arguments (JSON-2 names every argument), ``ids`` the records a
record method runs on. Failures end the delivery by raising
:class:`~switchboard_sdk.errors.OutcomeReached` with an already classified outcome::

    JSON-2      non-2xx                      outcomes.classify (5xx/429 retry, 4xx failed)
    JSON-RPC    non-2xx                      outcomes.classify
                200 + {"error": ...}         Access*/Validation/User/MissingError → failed,
                                             anything else → retry
    both        no response / out of time    retry
                2xx that is not JSON         failed (base_url is not an Odoo server)

Module-level caches (per Lambda container) keep the protocol per ``base_url``,
the JSON-RPC user id per login and the target model per database.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.transport import DeliveryContext, HttpResponse

from .config import OdooConfig

USER_AGENT = "Switchboard-Odoo/0.1"
# odoo.exceptions a retry cannot fix: bad credentials, rights, or data Odoo refuses
PERMANENT_ERRORS = frozenset({"AccessDenied", "AccessError", "ValidationError", "UserError", "MissingError"})

PROTOCOLS: dict[str, str] = {}  # base_url → "json2" | "jsonrpc", decided by "auto"
UIDS: dict[tuple[str, str, str], int] = {}  # (base_url, database, login) → uid
MODELS: dict[tuple[str, str], str] = {}  # (base_url, database) → target model
_request_ids = itertools.count(1)


def clear_caches() -> None:
    """Forget every cached decision (tests; a tenant who changed their Odoo)."""
    for cache in (PROTOCOLS, UIDS, MODELS):
        cache.clear()


class Rpc(Protocol):
    def call(self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None) -> Any:
        """``model.browse(ids).method(**params)`` (or the ``@api.model`` form without ids)."""
        ...


# -- HTTP plumbing shared by both protocols -------------------------------------------


@dataclass
class Wire:
    """One delivery's HTTP: the injected transport and a deadline for all its calls."""

    config: OdooConfig
    context: DeliveryContext
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        # one budget for the whole delivery: a delivery makes several calls, and the
        # worker's timeout bounds the delivery, not each call
        self.deadline = time.monotonic() + min(self.config.timeout_seconds, self.context.timeout_seconds)

    def post(self, path: str, payload: Any, headers: dict[str, str]) -> HttpResponse:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OutcomeReached(DeliveryOutcome.retry("Odoo did not finish within the delivery timeout"))
        all_headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT} | headers
        body = json.dumps(payload).encode()
        try:
            return self.context.http.request(
                "POST", self.config.base_url + path, headers=all_headers, body=body, timeout=remaining
            )
        except ConnectorError as err:  # TransportError: refused, reset, timed out
            raise OutcomeReached(outcomes.unreachable(err)) from err

    def http_failure(self, response: HttpResponse) -> OutcomeReached:
        outcome = outcomes.classify(response, self.context.clock())
        name, message = _error_fields(response.body)
        if name:  # Odoo's JSON error object: its exception name says more than the body excerpt
            detail = f"receiver answered {response.status}; {name}: {message}"[: outcomes.MAX_REASON_DETAIL + 50]
            outcome = outcome.model_copy(update={"reason": detail})
        return OutcomeReached(outcome)


def _error_fields(body: bytes) -> tuple[str, str]:
    try:
        error = json.loads(body)
    except ValueError:
        return "", ""
    if not isinstance(error, dict) or not isinstance(error.get("name"), str):
        return "", ""
    return error["name"], str(error.get("message", ""))


def json_body(response: HttpResponse) -> Any:
    """The decoded 2xx body; a non-JSON success means base_url is not an Odoo API."""
    try:
        return json.loads(response.body)
    except ValueError:
        reason = outcomes.reason(response, "not JSON: is base_url the Odoo server?")
        raise OutcomeReached(DeliveryOutcome.failed(reason, status_code=response.status)) from None


# -- JSON-2 ----------------------------------------------------------------------------


@dataclass
class Json2:
    """``POST /json/2/<model>/<method>`` with ``Authorization: bearer <API key>`` (Odoo 19+)."""

    wire: Wire

    def call(self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None) -> Any:
        payload = params if ids is None else {"ids": ids, **params}
        response = self.wire.post(f"/json/2/{model}/{method}", payload, self._headers())
        if not 200 <= response.status < 300:
            raise self.wire.http_failure(response)
        return json_body(response)

    def _headers(self) -> dict[str, str]:
        config = self.wire.config
        headers = {"authorization": "bearer " + config.api_key.get_secret_value()}
        if config.database:  # needed only when one server hosts several databases
            headers["x-odoo-database"] = config.database
        return headers


# -- JSON-RPC --------------------------------------------------------------------------


def rpc_error(error: Any) -> DeliveryOutcome:
    """Classify the ``error`` member of a JSON-RPC answer (sent with HTTP 200)."""
    error = error if isinstance(error, dict) else {}
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    name = str(data.get("name") or "")
    short = name.rpartition(".")[2]
    message = str(data.get("message") or error.get("message") or "")
    reason = f"Odoo error {short or error.get('code', '?')}: {message}"[: outcomes.MAX_REASON_DETAIL + 50]
    if short in PERMANENT_ERRORS or error.get("code") == 404:  # 404: no such service or method
        return DeliveryOutcome.failed(reason)
    return DeliveryOutcome.retry(reason)  # unknown server errors may pass (a lock, a restart)


@dataclass
class JsonRpc:
    """``POST /jsonrpc``: ``common.authenticate`` once, then ``object.execute_kw`` (Odoo 14 to 18)."""

    wire: Wire

    def call(self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None) -> Any:
        args: list[Any] = [] if ids is None else [ids]
        if method == "create":  # older servers read create's values positionally only
            args, params = [params["vals_list"]], {}
        database, key = self._database(), self.wire.config.api_key.get_secret_value()
        return self._rpc("object", "execute_kw", [database, self._uid(), key, model, method, args, params])

    def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(_request_ids),
                   "params": {"service": service, "method": method, "args": args}}
        response = self.wire.post("/jsonrpc", payload, {})
        if not 200 <= response.status < 300:
            raise self.wire.http_failure(response)
        answer = json_body(response)
        if not isinstance(answer, dict):
            raise OutcomeReached(DeliveryOutcome.failed("Odoo answered JSON-RPC with something that is not an object"))
        if answer.get("error") is not None:
            raise OutcomeReached(rpc_error(answer["error"]))
        return answer.get("result")

    def _database(self) -> str:
        if not self.wire.config.database or not self.wire.config.login:
            raise OutcomeReached(DeliveryOutcome.failed(
                "this Odoo has no JSON-2 API (before Odoo 19): set login and database to use JSON-RPC"
            ))
        return self.wire.config.database

    def _uid(self) -> int:
        config = self.wire.config
        key = (config.base_url, self._database(), config.login or "")
        if key not in UIDS:
            uid = self._rpc("common", "authenticate", [key[1], key[2], config.api_key.get_secret_value(), {}])
            if isinstance(uid, bool) or not isinstance(uid, int):  # False: login or key refused
                raise OutcomeReached(DeliveryOutcome.failed("Odoo refused the login and API key (authenticate failed)"))
            UIDS[key] = uid
        return UIDS[key]


# -- auto ------------------------------------------------------------------------------


@dataclass
class AutoRpc:
    """JSON-2 first; JSON-RPC from the first 404 on, remembered per ``base_url``.

    Callers make their first call on a core model (``res.partner``, ``ir.model``,
    ``mail.message``), so a 404 there means "no /json/2", not "no such model".
    """

    wire: Wire

    def call(self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None) -> Any:
        url = self.wire.config.base_url
        chosen = PROTOCOLS.get(url)
        if chosen is not None:
            return _client(chosen, self.wire).call(model, method, params, ids)
        try:
            result = Json2(self.wire).call(model, method, params, ids)
            chosen = "json2"
        except OutcomeReached as stop:
            if stop.outcome.status_code != 404:
                raise
            result = JsonRpc(self.wire).call(model, method, params, ids)
            chosen = "jsonrpc"
        PROTOCOLS[url] = chosen  # only once a call succeeded: a failing probe decides nothing
        return result


def _client(protocol: str, wire: Wire) -> Rpc:
    return Json2(wire) if protocol == "json2" else JsonRpc(wire)


def connect(config: OdooConfig, context: DeliveryContext) -> Rpc:
    """The client ``config.protocol`` asks for, on a fresh deadline."""
    wire = Wire(config, context)
    return AutoRpc(wire) if config.protocol == "auto" else _client(config.protocol, wire)
