"""Hook points: where one domain lets later ones act without importing them.

The functions behind each point are declared in one place, `app/hooks.py` (read it top to
bottom to know what runs when), and installed by create_app. A service fires a point with
`hooks.run(point, …)`; the functions run in their declared order, in the caller's
transaction, and an exception in one propagates (the caller's work rolls back with it).

Points and the arguments their functions take:
- "event_enriched" (event: TimelineEvent): a stored inbound event, after the customer's
  profile was refreshed (in the enrichment job, never in the callback).
- "customers_merged" (source_id: int, target_id: int): `source` was merged into `target`;
  move your rows.
- "delivery_reported" (msgid: str, status: str, msg: dict): WeChat reported a template or
  subscribe message's delivery.
- "stage_changed" (customer_id: int, old_stage: str, new_stage: str): the customer moved
  through the lifecycle (stage codes, app.models.STAGES).
- "customer_tags_changed" (customer_id: int): automation or a person added or removed a
  customer's intent tags.
- "lead_created" (customer_id: int, source: str): a new customer came in: the enrichment of
  a first contact's event (after "event_enriched", so its intent tags are there), or a lead
  form (mini program, web). `source` is the customer's source channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

POINTS = (
    "event_enriched",
    "customers_merged",
    "delivery_reported",
    "stage_changed",
    "customer_tags_changed",
    "lead_created",
)
_installed: dict[str, tuple[Callable, ...]] = {}


def install(table: Mapping[str, Sequence[Callable]]) -> None:
    """Replace every point's functions with `table`'s (KeyError naming an unknown point)."""
    unknown = sorted(set(table) - set(POINTS))
    if unknown:
        raise KeyError(f"unknown hook point(s) {unknown}; known: {POINTS}")
    _installed.clear()
    _installed.update({point: tuple(table.get(point, ())) for point in POINTS})


def run(point: str, *args) -> None:
    """Call the functions installed at `point` with `args`, in order."""
    if point not in POINTS:
        raise KeyError(f"unknown hook point {point!r}")
    for func in _installed.get(point, ()):
        func(*args)


def installed(point: str) -> tuple[Callable, ...]:
    """The functions at `point` (for tests and for reading)."""
    return _installed.get(point, ())
