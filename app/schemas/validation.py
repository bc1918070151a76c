"""Ids in URLs: ASCII digits only, and 404 for any id no row can have.

Request bodies and query strings are declared as pydantic models (app.schemas.<resource>,
app.schemas.spec.endpoint); what is left here is the part of a request that routing reads.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, UnicodeConverter

from app.core.database import MAX_ID
from app.core.errors import NotFound


class AsciiIntConverter(IntegerConverter):
    """`<int:…>` that matches ASCII digits only: werkzeug's `\\d+` also matches "١٢" (and
    int() reads it as 12), so /customers/١٢ would be customer 12. Installed as the app's
    "int" converter before any route is added."""

    regex = r"[0-9]+"


class BoundedStringConverter(UnicodeConverter):
    """`<string(maxLength=64):…>`: werkzeug's string converter under OpenAPI's names for its
    bounds, so spectree documents them (it copies `maxLength`/`minLength` from the rule,
    while werkzeug's own arguments are `maxlength`/`minlength`). Installed as "string"."""

    def __init__(self, url_map, minLength: int = 1, maxLength: int | None = None, **kwargs):  # noqa: N803
        super().__init__(url_map, minlength=minLength, maxlength=maxLength, **kwargs)


def check_url_ids(_endpoint: str | None, values: dict | None) -> None:
    """A blueprint url_value_preprocessor: ids outside 1..MAX_ID are 404, never a DB error."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound("资源不存在")
