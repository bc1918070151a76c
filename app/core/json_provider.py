"""Flask's JSON through orjson: the feed and project pages are mostly JSON encoding.

Behaviour stays Flask's: dates, decimals and dataclasses go through Flask's own `default`
(dates as HTTP dates, Decimal as str); only the encoder is faster. Output is UTF-8, not
\\u-escaped, which is also shorter for Chinese text.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider
from flask.json.provider import _default as _flask_default
from werkzeug.datastructures import FileStorage

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
OPTIONS |= orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    # An uploaded file inside a validation error (spectree encodes pydantic's errors, whose
    # `input` is the file, before our hook turns them into the envelope): its name, not a 500.
    if isinstance(value, FileStorage):
        return f"<file {value.filename!r}>"
    return _flask_default(value)


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        option = OPTIONS | (orjson.OPT_INDENT_2 if kwargs.get("indent") else 0)
        if kwargs.get("sort_keys"):
            option |= orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Flask's JSON response, byte for byte, without decoding orjson's UTF-8 to a str
        only for Response to encode it again (a feed page is tens of kilobytes)."""
        obj = self._prepare_response_obj(args, kwargs)
        option = OPTIONS | orjson.OPT_APPEND_NEWLINE
        if (self.compact is None and self._app.debug) or self.compact is False:
            option |= orjson.OPT_INDENT_2
        body = orjson.dumps(obj, default=_default, option=option)
        return self._app.response_class(body, mimetype=self.mimetype)
