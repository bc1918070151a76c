"""The documents and the routes agree on request bodies: walked from /api/v1 and /mini/v1
OpenAPI, a body the document marks required is a 400 when it is left out or empty (saying
so, under "body"), and one it marks optional may be left out."""

from __future__ import annotations

import re

from tests.api.documents import operations


def _fill(path: str, real) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(real(path, m.group(1))), path)


def _bodies(client, prefix: str):
    document = client.get(f"{prefix}/openapi.json").json
    return [
        (method, path, operation["requestBody"])
        for path, method, operation in operations(document)
        if "requestBody" in operation
    ]


def _left_out(client, method: str, url: str, headers: dict) -> list:
    """The answers to no body at all and to an empty body of the declared type."""
    return [
        client.open(url, method=method, headers=headers),
        client.open(url, method=method, headers=headers, data=b"", content_type="application/json"),
    ]


def _check(client, prefix: str, headers: dict, real) -> tuple[int, int]:
    required = optional = 0
    for method, path, body in _bodies(client, prefix):
        url, case = _fill(path, real), f"{method.upper()} {path}"
        for response in _left_out(client, method, url, headers):
            if body["required"]:
                assert response.status_code == 400, (case, response.status_code)
                assert "缺少请求体" in response.json["error"]["fields"].get("body", ""), (
                    case,
                    response.json,
                )
            else:
                assert response.status_code != 400, (case, response.json)
        required, optional = required + body["required"], optional + (not body["required"])
    return required, optional


def test_staff_api_bodies_are_required_exactly_as_documented(client, admin_world):
    headers, real = admin_world
    required, optional = _check(client, "/api/v1", headers, real)
    assert required >= 10 and optional >= 4  # PATCHes and the like may send nothing


def test_mini_bodies_are_required_exactly_as_documented(site, mini):
    from tests.projects.helpers import owner_headers

    headers = owner_headers(site, mini)
    bodies = _bodies(mini, "/mini/v1")
    assert {b["required"] for _, _, b in bodies} == {True, False}
    for method, path, body in bodies:
        if not body["required"]:
            continue  # their answers depend on the homeowner's rows: covered by the staff API
        url = re.sub(r"\{\w+\}", "1", path)
        for response in _left_out(mini, method, url, headers):
            assert response.status_code == 400, (method, path, response.status_code)
            assert "缺少请求体" in response.json["error"]["fields"]["body"], path
