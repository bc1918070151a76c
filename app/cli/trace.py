"""flask trace labels BATCH --out FILE: a batch's printable label sheets (A4 PDF)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from tqdm import tqdm

from app.core.errors import DomainError
from app.services.trace import catalog, codes, labels

trace_cli = AppGroup("trace", help="材料溯源: 溯源码标签")


@trace_cli.command("labels")
@click.argument("batch_id", metavar="BATCH", type=click.IntRange(min=1, max=2**31 - 1))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="写入的 PDF 文件",
)
@click.option("--first", type=click.IntRange(min=1), default=None, help="起始序号（默认第一个）")
@click.option("--last", type=click.IntRange(min=1), default=None, help="结束序号（默认最后一个）")
def labels_command(batch_id: int, out: Path, first: int | None, last: int | None):
    """Write the label sheets of batch BATCH (its id) to --out, 24 labels an A4 page."""
    try:
        batch = catalog.batch(batch_id)
    except DomainError as exc:
        raise click.ClickException(f"批次 {batch_id}: {exc.message}") from exc
    total = codes.count(batch.id, first, last)
    if total == 0:
        raise click.ClickException(f"批次 {batch_id} 在该范围内没有溯源码，请先生成")
    with tqdm(total=total, unit="个", desc="生成标签") as bar:
        try:
            pdf = labels.sheet(batch, codes.in_range(batch.id, first, last), progress=bar.update)
        except labels.LabelFontMissing as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        out.write_bytes(pdf)
    except OSError as exc:  # a folder that does not exist, no permission, a full disk
        raise click.ClickException(f"无法写入 {out}: {exc.strerror or exc}") from exc
    click.echo(f"已写入 {out}: {total} 个标签, {-(-total // (labels.COLS * labels.ROWS))} 页")
