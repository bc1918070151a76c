"""A property of every write route of /api/v1 and /mini/v1, read from the OpenAPI documents
(a new route is covered the day it is declared): a body that is not an object, or one field
holding a NUL, a lone surrogate, non-ASCII digits, a number beyond its bounds (huge or
negative), or a path id in other digits, is answered 4xx naming what was wrong, and the
database and the upload directory are exactly as before. Runs in both tiers (SQLite and
PostgreSQL). The rest of each body is the smallest valid one, built from the document.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.core.extensions import db
from tests.api.documents import DOCUMENTS, WRITES, body_of, operations, resolve
from tests.projects.helpers import owner_headers

EXAMPLES = 4  # per case; every (route, field) is a case, so every field of every route is hit
NON_OBJECTS = st.sampled_from(["586915", '"x"', "[1, 2]", "true", "false", "null", "0", "[]", '""'])
PATH_IDS = st.sampled_from(["0", "-1", str(2**31), "9" * 30, "1.5", "%00", "１２", "²"]) | st.text(
    st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()), min_size=1, max_size=3
)
NON_ASCII_DIGITS = st.text(
    st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii()), min_size=1, max_size=4
)


SMALL_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=3)
WITH_NUL = st.builds(lambda a, b: f"{a}\x00{b}", SMALL_TEXT, SMALL_TEXT)
WITH_SURROGATE = st.builds(
    lambda a, s, b: f"{a}{s}{b}",
    SMALL_TEXT,
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    SMALL_TEXT,
)


# What a valid value of a schema looks like (the rest of a body must pass, so that the one
# bad field is what gets refused).


def valid(schema: dict, document: dict) -> Any:
    schema = resolve(schema, document)
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if options:
        return valid(options[0], document)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date":
            return "2026-03-10"
        if "contentSchema" in schema:
            return json.dumps(valid(schema["contentSchema"], document))
        if "pattern" in schema:
            return "1"
        return "测" * max(schema.get("minLength", 1), 1)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 1) >= 1 else 0
    if kind == "number":
        return schema.get("maximum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [valid(schema["items"], document)] * schema.get("minItems", 0)
    if kind == "object":
        values = {k: valid(v, document) for k, v in schema.get("properties", {}).items()}
        required = {k: values[k] for k in schema.get("required", [])}
        if schema.get("minProperties") and "additionalProperties" in schema:
            required["t"] = valid(schema["additionalProperties"], document)
        return required
    raise AssertionError(f"no valid value for {schema}")


# What no declaration may accept, by the type a field is declared with.


def bad(schema: dict, document: dict, as_json: bool) -> st.SearchStrategy:
    schema = resolve(schema, document)
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if options:  # what one option refuses, the others refuse too (a number is no text)
        return st.one_of([bad(o, document, as_json) for o in options])
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "binary":
        return st.nothing()  # photos are checked by their content (tests/projects)
    if kind == "string" and (schema.get("format") == "date" or "pattern" in schema):
        return _bad_text(as_json) | NON_ASCII_DIGITS
    if kind == "string":
        return _bad_text(as_json)
    if kind in ("integer", "number"):
        return _bad_number(schema, as_json)
    if kind == "boolean":
        return st.sampled_from(["true", "yes", 1, 0]) | NON_ASCII_DIGITS
    if kind == "array":
        return bad(schema["items"], document, as_json).map(lambda item: [item])
    if kind == "object" and "additionalProperties" not in schema:  # a nested shape
        whole = valid(schema, document)
        return st.one_of(
            [
                bad(field, document, as_json).map(lambda value, key=key: {**whole, key: value})
                for key, field in schema.get("properties", {}).items()
            ]
        )
    if kind == "object":
        extra = schema["additionalProperties"]
        keys = _bad_text(as_json).map(lambda key: {key: valid(extra, document)})
        return keys | bad(extra, document, as_json).map(lambda v: {"t": v})
    raise AssertionError(f"no bad value for {schema}")


def _bad_text(as_json: bool) -> st.SearchStrategy:
    # A lone surrogate can only arrive in JSON: a form or a URL is decoded with
    # errors="replace", so it reaches us as U+FFFD, which is a character like any other.
    return WITH_NUL | WITH_SURROGATE if as_json else WITH_NUL


def _bad_number(schema: dict, as_json: bool) -> st.SearchStrategy:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    lowest = int(low) - (0 if "exclusiveMinimum" in schema else 1)
    numbers = st.integers(max_value=lowest) | st.integers(min_value=int(high) + 1)
    numbers |= st.sampled_from([min(lowest, -(2**63) - 1), max(int(high) + 1, 2**63)])  # > int64
    if schema["type"] == "integer":
        numbers |= st.sampled_from([1.5, -0.25])
    if not as_json:
        numbers = numbers.map(str)
    return numbers | NON_ASCII_DIGITS | WITH_NUL | st.just(True if as_json else "true")


def _cases(document: dict, prefix: str) -> list[dict]:
    """One case per path id and per body of each write operation, and one per body field."""
    cases = []
    for path, method, operation in operations(document):
        if method not in WRITES:
            continue
        case = {"prefix": prefix, "path": path, "method": method.upper(), "json": True}
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                cases.append({**case, "kind": "path", "field": parameter["name"], "bad": PATH_IDS})
        body = body_of(operation, document)
        if body is None:
            continue
        as_json = body[0] == "application/json"
        case |= {"json": as_json, "base": valid(body[1], document)}
        cases.append({**case, "kind": "body", "field": "body", "bad": NON_OBJECTS})
        for name, prop in body[1].get("properties", {}).items():
            strategy = bad(prop, document, as_json)
            if not strategy.is_empty:
                cases.append({**case, "kind": "field", "field": name, "bad": strategy})
    return cases


DIGEST = "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{}\" t)"


def _snapshot() -> list:
    """Every row of every table (the stored state a refused request must not touch); on
    PostgreSQL a digest of each table's rows, in one round trip."""
    tables = [table.name for table in db.metadata.sorted_tables]
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            digests = ", ".join(DIGEST.format(name) for name in tables)
            return conn.execute(text(f"SELECT ARRAY[{digests}]")).scalar()
        return [
            sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            for name in tables
        ]


def _files(directory) -> list[str]:
    return sorted(str(p) for p in directory.rglob("*")) if directory.exists() else []


def _request(client, case: dict, url: str, value: Any, headers: dict):
    """The case's request: `value` as a path id, as the whole body, or as one field."""
    method = case["method"]
    if case["kind"] == "path":
        return client.open(
            url.replace("{" + case["field"] + "}", value), method=method, headers=headers
        )
    if case["kind"] == "body":  # raw text sent as JSON, to JSON and form routes alike
        return client.open(
            url, method=method, data=value, content_type="application/json", headers=headers
        )
    body = {**case["base"], case["field"]: value}
    if case["json"]:  # the stdlib escapes lone surrogates (\ud800); orjson cannot send them
        data = json.dumps(body).encode()
        return client.open(
            url, method=method, data=data, content_type="application/json", headers=headers
        )
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    return client.open(
        url, method=method, data=form, content_type="multipart/form-data", headers=headers
    )


def test_bad_input_to_every_write_route_is_4xx_and_changes_nothing(
    site, mini, admin_world, uploads
):
    staff_headers, real = admin_world
    mini_headers = owner_headers(site, mini)
    documents = {prefix: site.client.get(f"{prefix}/openapi.json").json for prefix in DOCUMENTS}
    cases = [case for prefix, d in documents.items() for case in _cases(d, prefix)]
    assert {c["prefix"] for c in cases} == set(DOCUMENTS) and len(cases) > 60
    site.client.get("/api/v1/me", headers=staff_headers)  # the token's last use, stamped once
    before, files = _snapshot(), _files(uploads)
    for case in cases:
        mini_case = case["prefix"] == "/mini/v1"
        client, headers = (mini, mini_headers) if mini_case else (site.client, staff_headers)
        url = case["path"]
        for name in re.findall(r"{(\w+)}", url):
            if name != case["field"] or case["kind"] != "path":
                url = url.replace("{" + name + "}", str(real(case["path"], name)))
        _check(case, client, headers, url, (before, files, uploads))


def _check(case: dict, client, headers: dict, url: str, unchanged: tuple) -> None:
    before, files, uploads = unchanged

    @given(value=case["bad"])
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(value):
        response = _request(client, case, url, value, headers)
        what = f"{case['method']} {url} {case['field']}={value!r}"
        assert 400 <= response.status_code < 500, (what, response.status_code, response.data[:300])
        error = response.json["error"]
        if case["kind"] == "path":
            assert response.status_code == 404, what
        else:
            assert response.status_code == 400, (what, error)
            assert set(error.get("fields") or {}) & {case["field"], "body"}, (what, error)
        assert _snapshot() == before, what
        assert _files(uploads) == files, what

    run()
