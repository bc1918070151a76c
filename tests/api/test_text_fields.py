"""Every text a staff API request carries, in the body or the query string, is text a
database can store: walked from the OpenAPI document, a NUL in any string field is a 400
that names the field (app/schemas/base.py Shape), whatever type the field was declared."""

from __future__ import annotations

import re

from tests.api.documents import body_of, operations, resolve

NUL = "a\x00b"


def _free(schema: dict) -> bool:
    """Free text: not a choice, pattern or format (those refuse a NUL by their own rule)."""
    rules = {"enum", "const", "pattern", "format"}
    return schema.get("type") == "string" and not rules & set(schema)


def _kind(schema: dict, document: dict) -> str | None:
    """'string', or 'strings' (an array of them), for a free-text field; else None."""
    schema = resolve(schema, document)
    for option in schema.get("anyOf", [schema]):
        option = resolve(option, document)
        if _free(option):
            return "string"
        if option.get("type") == "array" and _free(resolve(option.get("items", {}), document)):
            return "strings"
    return None


def _fill(path: str, real) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(real(path, m.group(1))), path)


def _text_fields(document: dict):
    """(method, path, "body" | "query", name, kind) of every text field of the document."""
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            kind = _kind(parameter.get("schema", {}), document)
            if parameter["in"] == "query" and kind:
                yield method, path, "query", parameter["name"], kind
        body = body_of(operation, document)
        if body is not None and body[0] == "application/json":
            for name, schema in body[1].get("properties", {}).items():
                kind = _kind(schema, document)
                if kind:
                    yield method, path, "body", name, kind


def test_a_nul_in_any_text_field_of_the_staff_api_is_a_400_naming_it(client, admin_world):
    headers, real = admin_world
    document = client.get("/api/v1/openapi.json").json
    fields = list(_text_fields(document))
    assert len(fields) > 20  # the walk found the document's text fields
    for method, path, where, name, kind in fields:
        url, value = _fill(path, real), NUL if kind == "string" else [NUL]
        if where == "query":
            response = client.open(url, method=method, query_string={name: NUL}, headers=headers)
        else:
            response = client.open(url, method=method, json={name: value}, headers=headers)
        case = f"{method.upper()} {path} {where} {name}"
        assert response.status_code == 400, (case, response.status_code)
        messages = response.json["error"].get("fields", {})
        assert any(k.split(".")[0] == name and "空字符" in m for k, m in messages.items()), (
            case,
            messages,
        )
