"""The OpenAPI document covers every route Chalice serves, matches the copy in
docs/, and is served at /openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from chalice.test import Client

import app as app_module
from chalicelib.api.openapi import OPERATIONS, document, rendered

ROOT = Path(__file__).resolve().parent.parent


def served_routes() -> set[tuple[str, str]]:
    return {(method.lower(), path) for path, methods in app_module.app.routes.items() for method in methods}


def test_every_route_is_in_the_document_and_nothing_else() -> None:
    documented = {(method, path) for path, item in document()["paths"].items() for method in item}
    assert served_routes() - documented == set(), "add the route to chalicelib/api/openapi.py OPERATIONS"
    assert documented - served_routes() == set(), "the document names a route app.py does not serve"


def test_operation_ids_name_the_route_functions() -> None:
    views = {(m.lower(), path): e.view_name for path, methods in app_module.app.routes.items()
             for m, e in methods.items()}
    # one function answers both the provider's GET handshake and its POST
    renamed = {("get", "/hooks/{tenant}/{channel}"): "provider_handshake"}
    assert {(op.method, op.path): op.operation_id for op in OPERATIONS} == views | renamed


def test_the_copy_in_docs_is_current() -> None:
    assert (ROOT / "docs" / "openapi.json").read_text() == rendered(), "run `make schemas`"


def test_every_schema_reference_resolves() -> None:
    text, schemas = json.dumps(document()), document()["components"]["schemas"]
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs - set(schemas) == set()


def test_the_document_is_served(hub: object) -> None:
    with Client(app_module.app) as client:
        response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body)["openapi"].startswith("3.")
