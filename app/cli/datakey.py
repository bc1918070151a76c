"""flask data-key rotate: re-encrypt and re-hash personal data under the first DATA_KEY."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.core import pii
from app.core.extensions import db
from app.models import Customer, CustomerIdentity, Staff
from app.services.customers import audit, phones

datakey_cli = AppGroup("data-key", help="个人数据加密密钥")


def _rotate_row(row, keys: pii.DataKeys) -> tuple[str, list[str]]:
    """Re-seal one row's phone; return (new hash, every old hash it may have had)."""
    phone = pii.decrypt(keys, row.phone_enc)
    old_hashes = pii.all_phone_hashes(keys, phone)
    row.phone_enc = keys.fernet.rotate(row.phone_enc.encode()).decode()
    row.phone_hash = old_hashes[0]
    return old_hashes[0], old_hashes


@datakey_cli.command("rotate")
@click.option("--batch", default=500, show_default=True)
def rotate(batch):
    """Deploy DATA_KEY="new,old", run this, then deploy DATA_KEY="new"."""
    keys = phones.keys()
    if len(keys.secrets) < 2:
        click.echo("DATA_KEY holds one key: re-sealing under it (nothing old to drop).")
    counts = {"staff": 0, "customers": 0}
    for model, label in ((Staff, "staff"), (Customer, "customers")):
        rows = db.session.scalars(select(model).where(model.phone_enc.is_not(None))).all()
        for i, row in enumerate(rows, 1):
            new_hash, old_hashes = _rotate_row(row, keys)
            if model is Customer:
                _rehash_identities(row.id, new_hash, old_hashes)
            counts[label] += 1
            if i % batch == 0:
                db.session.commit()
    audit.record("data_key.rotate", "data_key", "-", actor="cli", after=counts)
    db.session.commit()
    click.echo(f"re-encrypted {counts['staff']} staff and {counts['customers']} customer phones")


def _rehash_identities(customer_id: int, new_hash: str, old_hashes: list[str]) -> None:
    rows = db.session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.customer_id == customer_id,
            CustomerIdentity.kind == "phone",
            CustomerIdentity.value.in_(old_hashes),
        )
    )
    for identity in rows:
        identity.value = new_hash
