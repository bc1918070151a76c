"""`flask` commands of the app: staff, seed, data-key, tags, trace, value, enrichment (worker and scheduler:
jobs/cli.py)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.cli import datakey, enrichment, seed, staff, tags, trace, value

    groups = (staff.staff_cli, seed.seed_cli, datakey.datakey_cli, tags.tags_cli)
    for group in (*groups, enrichment.enrichment_cli):
        app.cli.add_command(group)
    app.cli.add_command(trace.trace_cli)
    app.cli.add_command(value.value_cli)
