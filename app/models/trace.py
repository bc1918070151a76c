"""Material traceability (溯源): suppliers, materials, batches, trace codes, deliveries, scans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import db
from app.models.types import BigId, JSONType, UTCDateTime, utcnow

# Material categories (product.md, issue 13), stored and shown as they are.
MATERIAL_CATEGORIES = ("瓷砖", "地板", "板材", "涂料", "卫浴", "五金", "管材", "电线", "其他")
# How a scan reached us: a plain browser, WeChat's browser (after OAuth), the mini program.
SCAN_CHANNELS = ("web", "wechat", "mini")


class Supplier(db.Model):
    """A company we buy materials from (a business, never a person's contact details)."""

    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    credit_code: Mapped[str] = mapped_column(String(32), default="")  # 统一社会信用代码
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Material(db.Model):
    """A product as sold: category, brand, model, spec and the unit it is counted in."""

    __tablename__ = "materials"
    __table_args__ = (UniqueConstraint("brand", "model", "spec"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(10), default="件")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaterialBatch(db.Model):
    """One production batch bought from a supplier, with its inspection report.

    `inspection` holds the report's key results as [{"item": "放射性", "result": "A类"}, …];
    the report file itself is a storage key (app.core.storage), PDF or image.
    """

    __tablename__ = "material_batches"
    __table_args__ = (UniqueConstraint("material_id", "batch_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    batch_no: Mapped[str] = mapped_column(String(64))
    production_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    contract_ref: Mapped[str] = mapped_column(String(64), default="")
    inspection: Mapped[list] = mapped_column(JSONType, default=list)
    report_no: Mapped[str] = mapped_column(String(64), default="")
    inspection_agency: Mapped[str] = mapped_column(String(100), default="")
    report_key: Mapped[str | None] = mapped_column(String(255))
    report_type: Mapped[str | None] = mapped_column(String(50))
    report_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship()
    supplier: Mapped[Supplier] = relationship()


class MaterialDelivery(db.Model):
    """材料进场: serials first..last of a batch arrived at a project's site."""

    __tablename__ = "material_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("material_batches.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    first_serial: Mapped[int] = mapped_column(Integer)
    last_serial: Mapped[int] = mapped_column(Integer)
    code_count: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[MaterialBatch] = relationship()


class TraceCode(db.Model):
    """One 溯源码: a random code printed as a QR on one box of a batch (serial 1..N).

    Scan counters live on the row, so the public page shows them without counting scans.
    """

    __tablename__ = "trace_codes"
    __table_args__ = (UniqueConstraint("batch_id", "serial"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("material_batches.id"))
    serial: Mapped[int] = mapped_column(Integer)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("material_deliveries.id"), index=True
    )
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    first_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TraceScan(db.Model):
    """One opening of a trace code: when, coarse client info, and the customer when known.

    `client` is a keyed hash of the address and browser (the same phone scanning twice has
    the same value; the address itself is not kept), `network` the /24 (IPv4) or /48 (IPv6)
    it came from.
    """

    __tablename__ = "trace_scans"
    # One index besides the key: staff read scans per batch, and the page reads the code
    # row's counters, so every scan (the public page's write) maintains only two.
    __table_args__ = (Index("ix_trace_scans_batch_time", "batch_id", "scanned_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trace_codes.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("material_batches.id"))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    client: Mapped[str] = mapped_column(String(32), default="")
    network: Mapped[str] = mapped_column(String(50), default="")
    os: Mapped[str] = mapped_column(String(20), default="")
    device: Mapped[str] = mapped_column(String(10), default="")
    in_wechat: Mapped[bool] = mapped_column(default=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
