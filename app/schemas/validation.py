"""Request-body validation with field-level messages in Chinese.

form = Form(json_body())
item = form.text("item", "调整项目", max_len=200)
amount = form.integer("amount_fen", "金额(分)", minimum=-10**10, maximum=10**10)
form.done()   # raises ApiError(400, "invalid", ..., fields={"item": "调整项目不能为空"})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request

from app.core.database import MAX_ID
from app.core.errors import ApiError

MISSING = object()


def check_url_ids(_endpoint: str | None, values: dict | None) -> None:
    """A blueprint url_value_preprocessor: ids outside 1..MAX_ID are 404, never a DB error."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise ApiError(404, "not_found", "资源不存在")


def json_body() -> dict:
    """The request's JSON object; anything else is a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid", "请求体必须是 JSON 对象")
    return body


class Form:
    """Collects values and errors; `done()` raises one ApiError naming every bad field."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        self.data = data or {}
        self.errors: dict[str, str] = {}

    def _raw(self, name: str, label: str, required: bool):
        value = self.data.get(name, MISSING)
        if value is MISSING or value is None or value == "":
            if required:
                self.errors[name] = f"{label}不能为空"
            return MISSING
        return value

    def text(self, name: str, label: str, *, required=True, max_len=200, default="") -> str:
        value = self._raw(name, label, required)
        if value is MISSING:
            return default
        if not isinstance(value, str) or not value.strip() or not clean(value):
            self.errors[name] = f"{label}必须是文字"
            return default
        if len(value.strip()) > max_len:
            self.errors[name] = f"{label}不能超过 {max_len} 个字"
        return value.strip()

    def integer(self, name: str, label: str, *, required=True, minimum=None, maximum=None):
        value = self._raw(name, label, required)
        if value is MISSING:
            return None
        if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) < 20:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = f"{label}必须是整数"
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.errors[name] = f"{label}必须在 {minimum} 到 {maximum} 之间"
            return None
        return value

    def decimal(self, name: str, label: str, *, required=False, maximum=Decimal("999999")):
        value = self._raw(name, label, required)
        if value is MISSING:
            return None
        try:
            number = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or not 0 < number <= maximum:
            self.errors[name] = f"{label}必须是大于 0、不超过 {maximum} 的数字"
            return None
        return number.quantize(Decimal("0.01"))

    def day(self, name: str, label: str, *, required=False) -> date | None:
        value = self._raw(name, label, required)
        if value is MISSING:
            return None
        try:
            return (
                date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad()
            )
        except ValueError:
            self.errors[name] = f"{label}必须是 YYYY-MM-DD 格式的日期"
            return None

    def choice(self, name: str, label: str, choices: Iterable[str], *, required=True):
        value = self._raw(name, label, required)
        choices = tuple(choices)
        if value is MISSING:
            return None
        if value not in choices:
            self.errors[name] = f"{label}只能是: {', '.join(choices)}"
            return None
        return value

    def strings(self, name: str, label: str, *, max_items=9, max_len=2000) -> list[str]:
        value = self._raw(name, label, False)
        if value is MISSING:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and clean(v) for v in value):
            self.errors[name] = f"{label}必须是文字列表"
            return []
        if len(value) > max_items or any(len(v) > max_len for v in value):
            self.errors[name] = f"{label}最多 {max_items} 项"
            return []
        return value

    def fail(self, name: str, message: str) -> None:
        self.errors[name] = message

    def done(self) -> None:
        if self.errors:
            raise ApiError(400, "invalid", "请求参数有误，请检查后重试", fields=self.errors)


def clean(value: str) -> bool:
    """Non-empty text a database can store: no NUL, no lone surrogates."""
    if not value or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad():
    raise ValueError("not a date")
