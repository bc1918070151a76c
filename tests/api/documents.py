"""Reading the OpenAPI documents in tests: their operations, request shapes and `$ref`s."""

from __future__ import annotations

from collections.abc import Iterator

DOCUMENTS = ("/api/v1", "/mini/v1")
WRITES = ("post", "put", "patch", "delete")


def resolve(schema: dict, document: dict) -> dict:
    """The schema a `$ref` points to (components of the same document), else itself."""
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def operations(document: dict) -> list[tuple[str, str, dict]]:
    """(path, method, operation) of every documented operation."""
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def body_of(operation: dict, document: dict) -> tuple[str, dict] | None:
    """(content type, resolved schema) of an operation's request body, if it has one."""
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, item in content.items():
        return media_type, resolve(item["schema"], document)
    return None


def request_schemas(document: dict) -> Iterator[tuple[str, dict]]:
    """("METHOD path field", schema) of every parameter and request-body field."""
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", []):
            yield f"{where} ?{parameter['name']}", parameter["schema"]
        body = body_of(operation, document)
        if body is not None:
            yield f"{where} body", body[1]
