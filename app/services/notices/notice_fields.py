"""WeChat's value rules for template fields, by the key's type prefix (thing1, time2…).

Subscribe messages refuse a value that breaks its type's rule with 47003 naming the field;
official-account templates follow the same typed keys since 2023. We check every field
before sending: too long text is cut with "…" (a cut sentence is still readable), a value
of the wrong shape (a date that is not a date) is a render error, never a 47003 later.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
# (max length, cut with an ellipsis?) for free-text types.
LENGTHS = {
    "thing": (20, True),
    "name": (10, True),
    "phrase": (5, False),
    "symbol": (5, False),
    "character_string": (32, False),
    "letter": (32, False),
    "number": (32, False),
    "phone_number": (17, False),
    "car_number": (8, False),
    "keyword": (20, True),  # classic official-account templates: keep them short too
}
DEFAULT_LENGTH = (200, True)
SHAPES = {
    "number": re.compile(r"^-?\d+(\.\d+)?$"),
    "letter": re.compile(r"^[A-Za-z]+$"),
    "character_string": re.compile(r"^[\x21-\x7e]+$"),
    "amount": re.compile(r"^[¥￥$]?\d{1,10}(\.\d{1,2})?元?$"),
    "date": re.compile(r"^\d{4}(年\d{1,2}月\d{1,2}日|-\d{2}-\d{2})( \d{1,2}:\d{2}(:\d{2})?)?$"),
    "time": re.compile(
        r"^(\d{4}(年\d{1,2}月\d{1,2}日|-\d{2}-\d{2}) )?\d{1,2}:\d{2}(:\d{2})?$"
        r"|^\d{4}(年\d{1,2}月\d{1,2}日|-\d{2}-\d{2})$"
    ),
    "phone_number": re.compile(r"^[\d+\-() ]+$"),
}
_PREFIX = re.compile(r"^([a-z_]+?)\d*$")


class FieldError(ValueError):
    """A field that is empty or cannot be made to fit WeChat's rule."""


def field_type(key: str) -> str:
    """`thing12` → `thing`, `character_string3` → `character_string`."""
    match = _PREFIX.match(key)
    return match.group(1) if match else key


def fit(key: str, value: str) -> str:
    """The value WeChat will accept for `key`, or FieldError."""
    value = " ".join(str(value).split())  # WeChat shows one line; newlines are noise
    if not value:
        raise FieldError(f"{key} is empty")
    kind = field_type(key)
    limit, ellipsis = LENGTHS.get(kind, DEFAULT_LENGTH)
    if kind == "name" and value.isascii():
        limit = 20  # ≤10 Chinese characters or ≤20 letters
    if kind not in SHAPES or kind in LENGTHS:
        value = cut(value, limit, ellipsis)
    shape = SHAPES.get(kind)
    if shape is not None and not shape.match(value):
        raise FieldError(f"{key}={value!r} is not a valid {kind}")
    return value


def cut(value: str, limit: int, ellipsis: bool = True) -> str:
    if len(value) <= limit:
        return value
    return value[: limit - 1] + ELLIPSIS if ellipsis else value[:limit]


def cut_bytes(value: str, limit: int) -> str:
    """Cut to `limit` UTF-8 bytes (WeCom text: 2048 bytes) on a character boundary."""
    data = value.encode()
    if len(data) <= limit:
        return value
    return data[: limit - 3].decode(errors="ignore") + ELLIPSIS
