"""The catalog: suppliers, materials and their batches (with the inspection's key results)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.database import insert_once
from app.core.errors import Conflict, Invalid, NotFound
from app.core.extensions import db
from app.models import Material, MaterialBatch, Staff, Supplier
from app.services.trace import codes


def _page(query, model, before: int | None, limit: int) -> tuple[list, str | None]:
    """Newest first, `limit` a page before id `before` (the one pagination shape)."""
    if before is not None:
        query = query.where(model.id < before)
    rows = list(db.session.scalars(query.order_by(model.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def create_supplier(fields: dict) -> Supplier:
    """A supplier; Conflict when the name is taken."""
    supplier = Supplier(**fields)
    if not insert_once(supplier):
        raise Conflict("供应商已存在", fields={"name": "已有同名供应商"})
    return supplier


def suppliers(before: int | None, limit: int) -> tuple[list[Supplier], str | None]:
    return _page(select(Supplier), Supplier, before, limit)


def supplier(supplier_id: int) -> Supplier:
    found = db.session.get(Supplier, supplier_id)
    if found is None:
        raise NotFound("供应商不存在")
    return found


def create_material(fields: dict) -> Material:
    """A material; Conflict when the same brand, model and spec is already there."""
    material = Material(**fields)
    if not insert_once(material):
        raise Conflict("该材料已存在", fields={"model": "已有相同品牌、型号和规格的材料"})
    return material


def materials(
    before: int | None, limit: int, category: str | None = None
) -> tuple[list[Material], str | None]:
    query = select(Material)
    if category:
        query = query.where(Material.category == category)
    return _page(query, Material, before, limit)


def material(material_id: int) -> Material:
    found = db.session.get(Material, material_id)
    if found is None:
        raise NotFound("材料不存在")
    return found


def create_batch(fields: dict, actor: Staff) -> MaterialBatch:
    """A batch of a material from a supplier; NotFound for either, Conflict when the
    material already has this batch number."""
    errors = {}
    if db.session.get(Material, fields["material_id"]) is None:
        errors["material_id"] = "材料不存在"
    if db.session.get(Supplier, fields["supplier_id"]) is None:
        errors["supplier_id"] = "供应商不存在"
    if errors:
        raise NotFound("材料或供应商不存在", fields=errors)
    batch = MaterialBatch(**fields, created_by_id=actor.id)
    if not insert_once(batch):
        raise Conflict("批次号已存在", fields={"batch_no": "该材料已有相同批次号"})
    return batch


def update_batch(batch: MaterialBatch, fields: dict) -> MaterialBatch:
    """Change the given fields (the report's key results, contract reference, quantity…);
    Invalid when the quantity would fall below the codes already generated."""
    issued = codes.count(batch.id)
    if fields.get("quantity") and fields["quantity"] < issued:
        raise Invalid(
            "批次数量不能少于已生成的溯源码", fields={"quantity": f"已生成 {issued} 个溯源码"}
        )
    for key, value in fields.items():
        setattr(batch, key, value)
    db.session.flush()
    return batch


def batches(
    before: int | None, limit: int, material_id: int | None = None
) -> tuple[list[MaterialBatch], str | None]:
    query = select(MaterialBatch).options(
        joinedload(MaterialBatch.material), joinedload(MaterialBatch.supplier)
    )
    if material_id is not None:
        query = query.where(MaterialBatch.material_id == material_id)
    return _page(query, MaterialBatch, before, limit)


def batch(batch_id: int) -> MaterialBatch:
    found = db.session.get(MaterialBatch, batch_id)
    if found is None:
        raise NotFound("批次不存在")
    return found


# A batch with its material and supplier, as the scan page and material lists read them.
BATCH, MATERIAL, SUPPLIER = MaterialBatch.__table__, Material.__table__, Supplier.__table__
CATALOG_COLUMNS = (
    BATCH.c.id.label("batch_id"),
    BATCH.c.batch_no,
    BATCH.c.production_date,
    BATCH.c.contract_ref,
    BATCH.c.inspection,
    BATCH.c.report_no,
    BATCH.c.inspection_agency,
    BATCH.c.report_key.is_not(None).label("has_report"),
    MATERIAL.c.category,
    MATERIAL.c.name,
    MATERIAL.c.brand,
    MATERIAL.c.model,
    MATERIAL.c.spec,
    MATERIAL.c.unit,
    SUPPLIER.c.name.label("supplier"),
)


def join_catalog(source, batch_id):
    """`source` joined to the batch `batch_id` names, its material and its supplier."""
    return (
        source.join(BATCH, BATCH.c.id == batch_id)
        .join(MATERIAL, MATERIAL.c.id == BATCH.c.material_id)
        .join(SUPPLIER, SUPPLIER.c.id == BATCH.c.supplier_id)
    )
