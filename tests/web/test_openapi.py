"""The OpenAPI document declares the answers the API gives (issue 11: 400/401/403/404/409/413/422);
tests/worker/test_schemathesis.py checks the live answers against it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

EVERY = {"400", "401", "403", "404", "413", "422"}
CONFLICTS = {("post", "/api/labs"), ("delete", "/api/labs/{lab_id}"), ("put", "/api/labs/{lab_id}/topology"),
             ("post", "/api/labs/{lab_id}/versions/{number}/restore"), ("post", "/api/labs/{lab_id}/plan"),
             ("get", "/api/labs/{lab_id}/drift"), ("get", "/api/labs/{lab_id}/nodes/{node}/tables")}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    body: dict[str, Any] = Client().get("/api/openapi.json").json()
    return body


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def test_every_operation_declares_the_common_errors(schema: dict[str, Any]) -> None:
    missing = {(m, p): sorted(EVERY - set(op["responses"])) for m, p, op in operations(schema)
               if not EVERY <= set(op["responses"])}
    assert missing == {}


def test_operations_that_conflict_declare_409(schema: dict[str, Any]) -> None:
    declared = {(m, p) for m, p, op in operations(schema) if "409" in op["responses"]}
    assert CONFLICTS <= declared


def test_422_is_the_located_errors_shape(schema: dict[str, Any]) -> None:
    for _m, _p, op in operations(schema):
        ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        # the import's 422 adds the importer's warnings to the same located errors
        assert ref.endswith("/Errors") or ref.endswith("/ImportErrors")
