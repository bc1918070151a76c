"""One pagination shape everywhere: {"items": [...], "next_cursor": str | null}."""

from __future__ import annotations

from flask import request

from app.core.errors import ApiError


def limit_arg(default: int = 20, maximum: int = 100) -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "bad_limit", f"limit 必须是 1 到 {maximum} 之间的整数")
    return int(raw)


def page_body(items: list[dict], next_cursor: str | None) -> dict:
    return {"items": items, "next_cursor": next_cursor}
