"""Flask's JSON through orjson: the feed and project pages are mostly JSON encoding.

Behaviour stays Flask's: dates, decimals and dataclasses go through Flask's own `default`
(dates as HTTP dates, Decimal as str); only the encoder is faster. Output is UTF-8, not
\\u-escaped, which is also shorter for Chinese text.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider, _default

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
OPTIONS |= orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        option = OPTIONS | (orjson.OPT_INDENT_2 if kwargs.get("indent") else 0)
        if kwargs.get("sort_keys"):
            option |= orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)
