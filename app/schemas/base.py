"""Building blocks of the declared shapes: field types that refuse what a database cannot
store, and pydantic's validation errors turned into field messages in Chinese.

Every request body and query string of /api/v1 and /mini/v1 is a model built from these
(app/schemas/<resource>.py); the OpenAPI documents and the 400 answers come from the same
declarations (app.schemas.spec).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic import ValidationError as PydanticError
from werkzeug.datastructures import FileStorage

from app.core.database import MAX_ID


def storable(value: str) -> str:
    """Text a database can store: no NUL character, no lone surrogate (PostgreSQL refuses
    both, SQLite would keep them; refusing here keeps the two databases in agreement)."""
    if "\x00" in value:
        raise ValueError("不能包含空字符 (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("包含无法识别的字符") from None
    return value


def _not_bool(value: Any) -> Any:
    # JSON true/false are not numbers, whatever pydantic's lax mode would make of them.
    if isinstance(value, bool):
        raise ValueError("必须是整数")
    return value


def _ascii_text(value: Any) -> Any:
    # Python's Decimal reads "١٢" and "１２" as 12: a number is written in ASCII digits, and
    # anything else is refused rather than read as a number.
    if isinstance(value, str) and not value.isascii():
        raise ValueError("只能使用半角数字 0-9")
    return value


def _day(value: Any) -> Any:
    # A date is "YYYY-MM-DD" text (ASCII digits); pydantic would read a JSON number as a
    # Unix time.
    if isinstance(value, date) or (isinstance(value, str) and value.isascii()):
        return value
    raise ValueError("必须是 YYYY-MM-DD 格式的日期")


def Text(max_length: int, min_length: int = 1, **field) -> Any:  # noqa: N802 - a type
    """Stripped text of `min_length`..`max_length` characters, storable."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, **field),
        AfterValidator(storable),
    ]


def Integer(ge: int, le: int, **field) -> Any:  # noqa: N802 - a type
    """An integer in ge..le (a JSON number or, in a query string, ASCII digits)."""
    return Annotated[int, Field(ge=ge, le=le, **field), BeforeValidator(_not_bool)]


def Number(gt: Decimal, le: Decimal, decimal_places: int, **field) -> Any:  # noqa: N802 - a type
    """A decimal in (gt, le] with at most `decimal_places` places, as its Numeric column
    stores it: "0.000000001" is refused, never rounded to 0.00. A JSON number or a string
    of ASCII digits."""
    digits = len(str(int(le)))
    text = {"type": "string", "pattern": rf"^[0-9]{{1,{digits}}}(\.[0-9]{{1,{decimal_places}}})?$"}
    number = {"type": "number", "exclusiveMinimum": float(gt), "maximum": float(le)}
    return Annotated[
        Decimal,
        Field(gt=gt, le=le, decimal_places=decimal_places, **field),
        BeforeValidator(_not_bool),
        BeforeValidator(_ascii_text),
        WithJsonSchema({"anyOf": [number, text]}),
    ]


Id = Integer(1, MAX_ID)
Day = Annotated[date, BeforeValidator(_day)]  # YYYY-MM-DD
Fen = Integer(-(10**12), 10**12)  # money is integer fen (0.01 yuan)
Flag = Annotated[bool, Field(strict=True)]  # JSON true or false, not "yes" or 1


def _file(value: Any) -> FileStorage:
    if not isinstance(value, FileStorage):
        raise ValueError("必须是上传的文件")
    return value


# One uploaded file of a multipart/form-data body (documented as binary).
File = Annotated[
    FileStorage,
    PlainValidator(_file),
    WithJsonSchema({"type": "string", "format": "binary"}),
]
Files = Annotated[
    list[File],
    BeforeValidator(lambda v: v if isinstance(v, list) else [v]),
    WithJsonSchema({"type": "array", "items": {"type": "string", "format": "binary"}}),
]


class Shape(BaseModel):
    """A request shape: surrounding whitespace stripped; unknown fields ignored (older and
    newer clients send more than we read)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class Query(Shape):
    """A query string: a parameter given empty (`?q=`) is as if not given."""

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v not in ("", None)}
        return data


class Form(Query):
    """A multipart/form-data body (files typed File or Files): a field sent empty is as if
    not sent, as in a query string."""


class Out(BaseModel):
    """A response shape (documentation and, in tests, a check of what we answer)."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(Out):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorEnvelope(Out):
    """Every error of every API: {"error": {code, message, fields?}, "request_id"}."""

    error: ErrorBody
    request_id: str = ""


class Page(Out):
    """One pagination shape everywhere: {"items": [...], "next_cursor": str | null}."""

    items: list[dict]
    next_cursor: str | None = None


def _label(model: type[BaseModel] | None, loc: tuple) -> str:
    name = str(loc[0]) if loc else ""
    info = model.model_fields.get(name) if model is not None and name else None
    return (info.title if info is not None and info.title else name) or "请求体"


def _limit(ctx: dict, key: str) -> str:
    value = ctx.get(key, "")
    if key == "expected":  # pydantic's "'a', 'b' or 'c'"
        return str(value).replace("'", "").replace(" or ", ", ")
    return str(value.normalize() if isinstance(value, Decimal) else value)


_MESSAGES = {
    "missing": "{label}不能为空",
    "string_too_short": "{label}不能为空",
    "string_type": "{label}必须是文字",
    "string_too_long": "{label}不能超过 {max_length} 个字",
    "int_parsing": "{label}必须是整数",
    "int_type": "{label}必须是整数",
    "int_from_float": "{label}必须是整数",
    "greater_than_equal": "{label}不能小于 {ge}",
    "greater_than": "{label}必须大于 {gt}",
    "less_than_equal": "{label}不能大于 {le}",
    "less_than": "{label}必须小于 {lt}",
    "literal_error": "{label}只能是: {expected}",
    "enum": "{label}只能是: {expected}",
    "date_parsing": "{label}必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_parsing": "{label}必须是 YYYY-MM-DD 格式的日期",
    "date_from_datetime_inexact": "{label}必须是 YYYY-MM-DD 格式的日期",
    "date_type": "{label}必须是 YYYY-MM-DD 格式的日期",
    "datetime_parsing": "{label}必须是 ISO 8601 格式的时间",
    "datetime_type": "{label}必须是 ISO 8601 格式的时间",
    "decimal_parsing": "{label}必须是数字",
    "decimal_type": "{label}必须是数字",
    "decimal_max_places": "{label}最多 {decimal_places} 位小数",
    "decimal_max_digits": "{label}太大",
    "finite_number": "{label}必须是有限的数字",
    "float_parsing": "{label}必须是数字",
    "float_type": "{label}必须是数字",
    "bool_parsing": "{label}必须是 true 或 false",
    "bool_type": "{label}必须是 true 或 false",
    "list_type": "{label}必须是列表",
    "too_long": "{label}最多 {max_length} 项",
    "too_short": "{label}至少 {min_length} 项",
    "dict_type": "{label}必须是 JSON 对象",
    "json_invalid": "{label}必须是有效的 JSON",
    "json_type": "{label}必须是 JSON 文本",
    "model_type": "{label}必须是 JSON 对象",
    "model_attributes_type": "{label}必须是 JSON 对象",
}


def field_messages(error: PydanticError, model: type[BaseModel] | None = None) -> dict[str, str]:
    """{"field": "中文说明"} for each of pydantic's errors, keyed by the top-level field the
    person filled in (the first error per field; "body" for a rule of the whole body)."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        key = str(loc[0]) if loc else "body"
        if key in fields:
            continue
        label, kind, ctx = _label(model, loc), item.get("type", ""), item.get("ctx") or {}
        if kind == "value_error" and not loc:  # a rule of the whole body
            fields[key] = str(ctx.get("error", item.get("msg", "")))
            continue
        if kind == "value_error":
            message = label + str(ctx.get("error", item.get("msg", "")))
            fields[key] = message.replace(label + label, label)
            continue
        template = _MESSAGES.get(kind, "{label}不正确")
        values = {
            k: _limit(ctx, k)
            for k in (
                "ge",
                "gt",
                "le",
                "lt",
                "max_length",
                "min_length",
                "decimal_places",
                "expected",
            )
        }
        fields[key] = template.format(label=label, **values)
    return fields
