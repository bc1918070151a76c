"""One pagination shape everywhere: {"items": [...], "next_cursor": str | null}.

The `before`/`after` and `limit` parameters are declared in each route's query shape
(app.schemas.<resource>), so their bounds are in the OpenAPI documents."""

from __future__ import annotations


def page_body(items: list[dict], next_cursor: str | None) -> dict:
    return {"items": items, "next_cursor": next_cursor}
