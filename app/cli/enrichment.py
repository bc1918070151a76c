"""flask enrichment sweep | retry: hand the enrichment backlog over now, retry parked events."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.errors import Invalid
from app.core.extensions import db
from app.services.inbound import backlog

enrichment_cli = AppGroup("enrichment", help="消息补全（资料、标签、提醒）: 积压与失败")


@enrichment_cli.command("sweep")
def sweep():
    """Hand over every event waiting for enrichment now (what the minute sweep does)."""
    count = backlog.sweep()
    db.session.commit()
    click.echo(f"已交给补全任务: {count} 条")


@enrichment_cli.command("retry")
@click.argument("event_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--all", "everything", is_flag=True, help="重试全部已搁置的事件")
def retry(event_ids, everything):
    """Retry parked (or failing) events now: EVENT_ID… or --all parked ones."""
    if bool(event_ids) == everything:
        raise click.UsageError("请给出事件 ID，或用 --all 重试全部已搁置的事件（二者选一）")
    try:
        handed = backlog.retry(None if everything else list(event_ids))
    except Invalid as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    shown = f" ({', '.join(map(str, handed))})" if 0 < len(handed) <= 20 else ""
    click.echo(f"已重新交给补全任务: {len(handed)} 条{shown}")
