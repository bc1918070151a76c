"""The scan page's unchanging part, kept in each web process (PostgreSQL only).

Most of what /t/<code> shows is the same for every code of a batch delivered to one site:
the material, brand, model, supplier, batch, inspection results and the site's community.
It is kept here per (batch id, delivery id), so a scan's statement only counts the code and
stores the scan (no joins), and the page's catalog part is read once per process.

Staying correct, with every process keeping its own copy:
- the batch (inspection results, report, contract, production date) is checked on every
  scan: the statement returns the batch row's version, PostgreSQL's `xmin`, which is new
  after any UPDATE of the row (any process, any session, a psql shell alike), and an entry
  of another version is read again;
- a delivery gives its codes a new delivery id, so a delivered code's key is new;
- what is read through other rows (the material's and supplier's names, the project's
  community) is read again after TTL seconds at the latest.
The scan count and the first scan's time are never cached: they come from the code row the
statement has just counted.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from flask import current_app

TTL = 30.0  # seconds an entry is used before it is read again, whatever its version
MAX_ENTRIES = 4096  # (batch, delivery) pairs per process; past this the cache starts over
_KEY = "trace.page_cache"


class PageCache:
    """(batch id, delivery id) → (batch version, expiry, the catalog part as a dict).

    Plain dict operations, atomic under the GIL: two threads missing the same key both
    read it and the later one's entry stays, which is as correct as the first's."""

    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[tuple, tuple[str, float, dict[str, Any]]] = {}

    def get(self, key: tuple, version: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version or entry[1] < monotonic():
            return None
        return entry[2]

    def put(self, key: tuple, version: str, part: dict[str, Any]) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (version, monotonic() + self.ttl, part)

    def clear(self) -> None:
        self._entries.clear()


def cache() -> PageCache:
    """This app's (this web process's) cache."""
    extensions = current_app.extensions
    found = extensions.get(_KEY)
    if found is None:
        found = extensions.setdefault(_KEY, PageCache())
    return found
