"""The two OpenAPI documents against the app: every /api/v1 and /mini/v1 route is documented
and nothing else is; every request field is bounded; schemathesis drives every /api/v1
operation (signed in as an admin, real ids half the time): no 500, and every answer matches
the documented status codes, content types and schemas."""

import re

import pytest

from tests.api.documents import DOCUMENTS, operations, request_schemas, resolve
from tests.conformance import check_document


def _routes(app, prefix: str) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route under `prefix`, but the documents' own."""
    found = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(prefix + "/") or path == f"{prefix}/openapi.json":
            continue
        if path.startswith(f"{prefix}/docs/"):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", path)
        found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


@pytest.mark.parametrize("prefix", DOCUMENTS)
def test_every_route_is_documented_and_nothing_else(client, prefix):
    document = client.get(f"{prefix}/openapi.json").json
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routes = _routes(client.application, prefix)
    assert routes, prefix
    assert routes - documented == set(), "routed but not declared with @endpoint"
    assert documented - routes == set(), "documented but not routed"


@pytest.mark.parametrize("prefix", DOCUMENTS)
def test_the_documents_and_their_pages_are_served(client, prefix):
    document = client.get(f"{prefix}/openapi.json").json
    assert document["openapi"].startswith("3.")
    page = client.get(f"{prefix}/docs/swagger/").get_data(as_text=True)
    url = re.search(r"url: '([^']+)'", page).group(1)
    assert url.startswith(prefix) and client.get(url).json == document
    assert not re.search(r"""(src|href)=["']https?://""", page)  # assets inlined, no CDN
    assert "validatorUrl: null" in page


def _unbounded(schema: dict, document: dict, where: str) -> list[str]:
    """Fields a request may send without an upper bound: strings with no maxLength,
    enum or format; integers and numbers without both bounds (or int32, as ids in paths)."""
    schema = resolve(schema, document)
    problems = []
    for option in schema.get("anyOf", []):
        problems += _unbounded(option, document, where)
    kind = schema.get("type")
    bounds = ("maxLength", "enum", "format", "const", "pattern", "contentSchema")
    if kind == "string" and not any(key in schema for key in bounds):
        problems.append(where)
    if (
        kind in ("integer", "number")
        and schema.get("format") != "int32"
        and not (
            ("minimum" in schema or "exclusiveMinimum" in schema)
            and ("maximum" in schema or "exclusiveMaximum" in schema)
        )
    ):
        problems.append(where)
    if kind == "array":
        problems += _unbounded(schema.get("items", {}), document, f"{where}[]")
    if "contentSchema" in schema:
        problems += _unbounded(schema["contentSchema"], document, f"{where}(json)")
    for name, prop in schema.get("properties", {}).items():
        problems += _unbounded(prop, document, f"{where}.{name}")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        problems += _unbounded(extra, document, f"{where}{{}}")
    return problems


@pytest.mark.parametrize("prefix", DOCUMENTS)
def test_every_request_field_is_bounded(client, prefix):
    """What a database column cannot hold is refused by the declaration, not by a 500."""
    document = client.get(f"{prefix}/openapi.json").json
    problems = []
    for where, schema in request_schemas(document):
        problems += _unbounded(schema, document, where)
    assert problems == []


def test_staff_api_conforms_to_its_openapi_document(client, admin_world):
    headers, real = admin_world
    count = check_document(client.application, "/api/v1/openapi.json", headers, real, 10)
    assert count == len(operations(client.get("/api/v1/openapi.json").json))
