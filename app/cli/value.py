"""flask value recompute: assess customers' value (客户价值) now, e.g. after an upgrade."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.extensions import db
from app.models.types import utcnow
from app.services.value import value

value_cli = AppGroup("value", help="客户价值: 重新评估")


@value_cli.command("recompute")
@click.option(
    "--batch",
    default=value.BATCH,
    show_default=True,
    type=click.IntRange(min=1),
    help="每批评估并提交的客户数",
)
def recompute(batch: int):
    """Assess every customer not yet assessed, or whose 90-day window moved."""
    now, total = utcnow(), 0
    while done := value.recompute_due(now, batch):
        db.session.commit()
        total += done
    click.echo(f"客户价值已评估: {total} 位客户")
