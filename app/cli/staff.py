"""flask staff create | token | revoke-token | list."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.extensions import db
from app.models import ROLES
from app.services.customers import staff as staff_service

staff_cli = AppGroup("staff", help="员工账号与 API 令牌")


@staff_cli.command("create")
@click.option("--name", required=True)
@click.option("--role", "roles", required=True, help=f"逗号分隔: {', '.join(ROLES)}")
@click.option("--store", default=None, help="门店名称（不存在则创建）")
@click.option("--password", default=None)
@click.option("--phone", default=None)
@click.option("--wecom-userid", default=None)
def create(name, roles, store, password, phone, wecom_userid):
    """Create a staff member."""
    try:
        member = staff_service.create(
            name, roles, password=password, store=store, phone=phone, wecom_userid=wecom_userid
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    store_note = f", store {member.store.name}" if member.store else ""
    click.echo(f"created staff {member.id} {member.name} ({member.roles}{store_note})")


@staff_cli.command("token")
@click.option("--name", required=True)
def token(name):
    """Print a new bearer token for /api/v1 (shown once, stored hashed)."""
    try:
        member = staff_service.by_name(name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not member.active:
        raise click.ClickException(f"员工 {name!r} 已停用：不能签发令牌（先在控制台重新启用）")
    value = staff_service.issue_token(member)
    db.session.commit()
    click.echo(value)


@staff_cli.command("revoke-token")
@click.option("--name", required=True)
def revoke_token(name):
    """Revoke every token of a staff member."""
    try:
        count = staff_service.revoke_tokens(staff_service.by_name(name))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"revoked {count} token(s) of {name}")
