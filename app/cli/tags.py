"""flask tags load-defaults | retag: the tagging rules table and re-tagging stored messages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from app.core.extensions import db
from app.services.tagging import retag, tag_rules

tags_cli = AppGroup("tags", help="意向标签: 规则与重新打标签")


@tags_cli.command("load-defaults")
def load_defaults():
    """Load the shipped rules (rules.txt) into the table; running it again adds nothing."""
    added = tag_rules.load_defaults(actor="cli")
    db.session.commit()
    click.echo(f"默认规则已加载: 新增 {added} 条")


def parse_since(value: str | None) -> datetime | None:
    """YYYY-MM-DD, midnight in the company's TIMEZONE, as UTC."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise click.BadParameter(
            f"日期应写成 YYYY-MM-DD，收到 {value!r}", param_hint="--since"
        ) from exc
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return day.replace(tzinfo=zone).astimezone(UTC)


@tags_cli.command("retag")
@click.option("--since", default=None, help="只处理此日期 (YYYY-MM-DD) 及以后的消息")
@click.option(
    "--batch",
    default=retag.DEFAULT_BATCH,
    show_default=True,
    type=click.IntRange(min=1),
    help="每批处理并提交的消息数",
)
@click.option("--restart", is_flag=True, help="忽略检查点，从头开始")
def retag_command(since, batch, restart):
    """Re-run tagging over stored inbound messages; an interrupted run continues where it stopped."""
    since_at = parse_since(since)
    after = retag.start_after(since_at, restart)
    if after:
        click.echo(f"从检查点继续: 事件 #{after} 之后")
    with tqdm(total=retag.remaining(since_at, after), unit="条", desc="重新打标签") as bar:
        try:
            result = retag.run(since_at, batch=batch, restart=restart, progress=bar.update)
        except retag.RetagBusy as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"完成: 处理 {result.processed} 条消息, 新增 {result.tags_added} 个标签")
