"""JSON responses: Flask's format (compact, one trailing newline, UTF-8) and no cookies."""

from datetime import UTC, datetime
from decimal import Decimal


def test_a_json_response_is_compact_utf8_with_a_trailing_newline(ctx):
    body = {"名称": "王项目", "at": datetime(2026, 3, 1, tzinfo=UTC), "m2": Decimal("98.50")}
    response = ctx.json.response(body)
    assert response.mimetype == "application/json"
    assert response.data == (
        '{"名称":"王项目","at":"Sun, 01 Mar 2026 00:00:00 GMT","m2":"98.50"}\n'.encode()
    )


def test_no_page_sets_a_session_cookie(client):
    for path in ("/healthz", "/mini/v1/projects/1", "/api/v1/projects/1"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.vary, path
