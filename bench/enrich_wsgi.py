"""The production app with one bug planted for the enrichment benchmark (bench/enrich.py).

A message whose text carries POISON makes the first event_enriched hook raise, every time:
it stands for the events a real bug fails forever (issue 12's stored `<Content><b>hi</b>`,
whose dict content the tagger could not read). Everything else is the app as deployed;
`flask --app bench.enrich_wsgi worker` is the production worker running this app.
"""

from app import create_app
from app.core import hooks

POISON = "【bench-poison】"  # bench/enrich.py marks its poison messages so


def _explode(event) -> None:
    if POISON in str((event.payload or {}).get("content", "")):
        raise RuntimeError(f"bench poison in event {event.id}")


app = create_app()
hooks.install(
    {
        point: (_explode, *hooks.installed(point))
        if point == "event_enriched"
        else hooks.installed(point)
        for point in hooks.POINTS
    }
)
