"""The scan page's HTML without a Jinja render per scan.

Most of /t/<code> is the same for every code of a batch delivered to one site; only a few
fields differ per code (PER_CODE). The page is rendered with Jinja once per distinct
catalog part, with stand-ins for the per-code fields that print as unique markers; the
HTML is split on the markers and kept per process. A scan then joins the kept segments with
its own values, escaped as Jinja's autoescape would. Jinja stays the only source of the
markup: the template is not changed, and what it does with a per-code field is recorded:

- what it prints (a field, or what a method chain such as
  `.astimezone(tz).strftime(...)` made of it) is a slot, filled from each scan's view;
- every branch it takes on one (`{% if v.scan_count > 1 %}`, the truth of a field) is a
  guard: a rendering is used only for views whose fields give the same outcomes, and views
  with other outcomes get a rendering of their own (a few per catalog part at most).

The stand-ins see printing, method calls, comparisons and truth tests. A template that did
something else with a per-code field (arithmetic, `is none`, a filter that rewrites the
marker) is caught where it can be (an error, or the marker not found: then that page is
rendered with Jinja every time); tests/trace/test_scan_render.py compares the output with
Jinja's for the page's cases.
"""

from __future__ import annotations

import operator
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import cache
from operator import attrgetter
from typing import Any, get_origin, get_type_hints

from flask import current_app
from jinja2 import Template
from markupsafe import escape

PER_CODE = ("serial", "code", "scan_count", "first_scanned_at")  # all else is the catalog part
MAX_ENTRIES = 1024  # catalog parts kept per process; past this the cache starts over
Call = tuple[str, tuple, dict]  # a method call: name, positional and keyword arguments
Chain = tuple[str, tuple[Call, ...]]  # a per-code field and the calls made on it


def _reader(chain: Chain) -> Callable[[Any], Any]:
    """A function giving the value a chain stands for in a view: the field, then each
    method call (a plain field is read by operator.attrgetter, the cheapest way)."""
    field, calls = chain
    if not calls:
        return attrgetter(field)

    def read(view: Any) -> Any:
        value = getattr(view, field)
        for name, args, kwargs in calls:
            value = getattr(value, name)(*args, **kwargs)
        return value

    return read


@dataclass(frozen=True)
class Guard:
    """A branch the template took on a per-code field: `test(value, *args)` was `outcome`."""

    read: Callable[[Any], Any]
    test: Callable[..., Any]
    args: tuple
    outcome: Any

    def holds(self, view: Any) -> bool:
        return self.test(self.read(view), *self.args) == self.outcome


class _Recording:
    """What one render with stand-ins saw: the printed chains (slots), in the order their
    markers were made, and the guards. Markers carry a random token, so no catalog text can
    look like one."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.slots: list[Chain] = []
        self.guards: list[Guard] = []

    def marker(self, chain: Chain) -> str:
        self.slots.append(chain)
        return f"\x00{self.token}:{len(self.slots) - 1}\x00"

    def split(self, html: str) -> list[str] | None:
        """The static segments around the markers (slot indexes checked), or None when the
        markers are not all there in order (the template rewrote one)."""
        parts = re.split(f"\x00{self.token}:(\\d+)\x00", html)
        found = [int(index) for index in parts[1::2]]
        return parts[0::2] if found == list(range(len(self.slots))) else None


def _plain(args: tuple) -> tuple:
    """Arguments without stand-ins: a per-code field given to another's test or method
    could not be replayed from a later view's values, so it is refused (TypeError)."""
    if any(isinstance(arg, _StandIn) for arg in args):
        raise TypeError("the scan page may not combine two per-code fields")
    return args


def _guarded(test: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in's operator: the real value's outcome, recorded as a guard."""

    def method(self: _StandIn, *args: Any) -> Any:
        outcome = test(self._value, *_plain(args))
        self._recording.guards.append(Guard(_reader(self._chain), test, args, outcome))
        return outcome

    return method


class _StandIn:
    """A per-code field (or a method's result on it) while the page is rendered with
    markers: prints as a marker, compares and tests true like the real value."""

    def __init__(self, recording: _Recording, chain: Chain, value: Any) -> None:
        self._recording, self._chain, self._value = recording, chain, value

    def __html__(self) -> str:
        return self._recording.marker(self._chain)

    __str__ = __html__

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        field, calls = self._chain

        def call(*args: Any, **kwargs: Any) -> _StandIn:
            value = getattr(self._value, name)(*_plain(args), **kwargs)
            return _StandIn(self._recording, (field, (*calls, (name, args, kwargs))), value)

        return call

    __bool__ = _guarded(bool)
    __eq__ = _guarded(operator.eq)
    __ne__ = _guarded(operator.ne)
    __lt__ = _guarded(operator.lt)
    __le__ = _guarded(operator.le)
    __gt__ = _guarded(operator.gt)
    __ge__ = _guarded(operator.ge)
    __hash__ = None


@dataclass(frozen=True)
class Rendering:
    """One rendering of a catalog part: valid for the views all its guards hold for."""

    guards: tuple[Guard, ...]
    segments: tuple[bytes, ...]  # the static HTML around the slots: one more than slots
    slots: tuple[Callable[[Any], Any], ...]  # each printed value's reader

    def fits(self, view: Any) -> bool:
        return all(guard.holds(view) for guard in self.guards)

    def fill(self, view: Any) -> bytes:
        """The page of `view`: the segments joined with its own values, escaped."""
        parts = [self.segments[0]]
        for read, segment in zip(self.slots, self.segments[1:], strict=True):
            parts += (escape(read(view)).encode(), segment)
        return b"".join(parts)


def _render(template: Template, view: Any, tz: Any) -> Rendering | None:
    """The template rendered for `view` with stand-ins for its per-code fields; None when
    the markers did not come through."""
    recording = _Recording()
    stand_ins = {
        field: _StandIn(recording, (field, ()), getattr(view, field)) for field in PER_CODE
    }
    segments = recording.split(template.render(v=replace(view, **stand_ins), tz=tz))
    if segments is None:
        return None
    return Rendering(
        tuple(recording.guards),
        tuple(segment.encode() for segment in segments),
        tuple(map(_reader, recording.slots)),
    )


@cache
def _catalog_key(view_type: type) -> Callable[[Any], tuple]:
    """A function giving a view's catalog part as a hashable key: every field other than
    the per-code ones (a field added to the view is in the key without anyone remembering
    to add it), the list and dict ones (the inspection rows) by their repr, which tells
    apart what prints differently (1, 1.0, True, "1")."""
    hints = get_type_hints(view_type)
    names = [f.name for f in fields(view_type) if f.name not in PER_CODE]
    listed = [name for name in names if (get_origin(hints[name]) or hints[name]) in (list, dict)]
    plain = attrgetter(*(name for name in names if name not in listed))
    if not listed:
        return plain
    rows = attrgetter(*listed)
    return lambda view: (plain(view), repr(rows(view)))


class ScanPages:
    """Renderings of the scan page per (template, timezone, catalog part's values).

    The key holds every shown field's value itself, so any change of one (a batch edited,
    a delivery, a renamed community) is another key; stale keys just age out when the
    cache starts over. Plain dict operations, atomic under the GIL: threads rendering the
    same page at once each add their rendering, all equally right."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[Rendering, ...]] = {}

    def page(self, template: Template, view: Any, tz: Any) -> bytes:
        """The HTML of `template` rendered with `v=view, tz=tz`, as Jinja gives it."""
        key = self._key(template, view, tz)
        renderings = self._entries.get(key, ())
        for rendering in renderings:
            if rendering.fits(view):
                return rendering.fill(view)
        rendering = _render(template, view, tz)
        if rendering is None:
            return template.render(v=view, tz=tz).encode()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (*renderings, rendering)
        return rendering.fill(view)

    @staticmethod
    def _key(template: Template, view: Any, tz: Any) -> tuple:
        return (template.name, tz, _catalog_key(type(view))(view))

    def clear(self) -> None:
        self._entries.clear()


_KEY = "trace.scan_pages"


def render(name: str, view: Any, tz: Any) -> str | bytes:
    """The scan page `name` for `view` in timezone `tz`: from this app's (web process's)
    kept renderings, or straight from Jinja when templates reload (development), where a
    kept rendering could outlive its template."""
    app = current_app._get_current_object()  # one look-up through the proxy, not three
    template = app.jinja_env.get_template(name)
    if app.jinja_env.auto_reload:
        return template.render(v=view, tz=tz)
    pages = app.extensions.get(_KEY) or app.extensions.setdefault(_KEY, ScanPages())
    return pages.page(template, view, tz)
