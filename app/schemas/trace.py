"""Shapes of material traceability (staff API, mini program) and their serializers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.core.errors import Invalid
from app.models import Material, MaterialBatch, MaterialDelivery, Supplier, TraceCode
from app.models.trace import MATERIAL_CATEGORIES
from app.schemas.base import Id, Integer, Out, Shape, Text
from app.schemas.serializers import iso
from app.services.trace import anomalies, codes
from app.services.trace.scans import ScanView

Category = Literal["瓷砖", "地板", "板材", "涂料", "卫浴", "五金", "管材", "电线", "其他"]
assert set(Category.__args__) == set(MATERIAL_CATEGORIES)  # one list, two spellings
Serial = Integer(1, 10**9)


# -- requests ------------------------------------------------------------------------------
class ListQuery(Shape):
    before: Id | None = Field(None, title="游标 before")
    limit: Integer(1, 100, title="每页条数 limit") = 20


class MaterialQuery(ListQuery):
    category: Category | None = Field(None, title="类别")


class BatchQuery(ListQuery):
    material_id: Id | None = Field(None, title="材料")


class CodesQuery(Shape):
    after: Serial | None = Field(None, title="游标 after（序号）")
    limit: Integer(1, 1000, title="每页条数 limit") = 100


class RangeQuery(Shape):
    first_serial: Serial | None = Field(None, title="起始序号")
    last_serial: Serial | None = Field(None, title="结束序号")


class SupplierIn(Shape):
    name: Text(100) = Field(title="供应商名称")
    credit_code: Text(32) | None = Field(None, title="统一社会信用代码")
    note: Text(500) | None = Field(None, title="备注")


class MaterialIn(Shape):
    category: Category = Field(title="类别")
    name: Text(100) = Field(title="名称")
    brand: Text(100) = Field(title="品牌")
    model: Text(100) = Field(title="型号")
    spec: Text(100) | None = Field(None, title="规格")
    unit: Text(10) = Field("件", title="单位")


class InspectionItem(Shape):
    item: Text(50) = Field(title="检测项目")
    result: Text(100) = Field(title="检测结果")


class BatchFields(Shape):
    production_date: date | None = Field(None, title="生产日期")
    quantity: Integer(0, 10**9, title="数量") | None = None
    contract_ref: Text(64) | None = Field(None, title="采购合同编号")
    report_no: Text(64) | None = Field(None, title="报告编号")
    inspection_agency: Text(100) | None = Field(None, title="检测机构")
    inspection: list[InspectionItem] | None = Field(
        None, max_length=20, title="质检结果", description="如 [{item: 放射性, result: A类}]"
    )


class BatchIn(BatchFields):
    material_id: Id = Field(title="材料")
    supplier_id: Id = Field(title="供应商")
    batch_no: Text(64) = Field(title="批次号")


class CodesIn(Shape):
    count: Integer(1, 10**9, title="数量") = Field(description="每次最多 TRACE_MAX_CODES 个")


class DeliveryIn(Shape):
    project_id: Id = Field(title="项目")
    first_serial: Serial | None = Field(None, title="起始序号")
    last_serial: Serial | None = Field(None, title="结束序号")
    delivered_at: datetime | None = Field(None, title="进场时间")
    note: Text(500) | None = Field(None, title="备注")


def text_fields(shape: Shape) -> dict:
    """The request's fields, an omitted optional text stored as ""."""
    return {key: "" if value is None else value for key, value in shape.model_dump().items()}


def uploaded(file) -> bytes:
    """The bytes of a multipart file field; Invalid when it is missing."""
    if file is None or file.filename is None:
        raise Invalid("请选择质检报告文件", fields={"report": "请选择质检报告文件"})
    return file.read()


def delivery_fields(shape: DeliveryIn) -> dict:
    """deliveries.deliver's keyword arguments from the request."""
    return {
        "first": shape.first_serial,
        "last": shape.last_serial,
        "delivered_at": shape.delivered_at,
        "note": shape.note or "",
    }


def batch_fields(shape: BatchFields) -> dict:
    """The fields a request set (None: left as they are), as the model stores them."""
    values = shape.model_dump(exclude_unset=True, exclude={"material_id", "supplier_id"})
    for key in ("contract_ref", "report_no", "inspection_agency"):
        if key in values and values[key] is None:
            values[key] = ""
    if "inspection" in values:
        values["inspection"] = values["inspection"] or []
    if values.get("quantity") is None:
        values.pop("quantity", None)
    return values


# -- responses -----------------------------------------------------------------------------
class SupplierOut(Out):
    id: int
    name: str
    credit_code: str
    note: str
    created_at: str | None


class TraceMaterial(Out):
    category: str
    name: str
    brand: str
    model: str
    spec: str
    unit: str


class MaterialOut(TraceMaterial):
    id: int


class BatchOut(Out):
    id: int
    batch_no: str
    material: MaterialOut
    supplier: SupplierOut
    production_date: str | None
    quantity: int
    contract_ref: str
    report_no: str
    inspection_agency: str
    inspection: list[dict]
    report: dict | None


class CodeOut(Out):
    serial: int
    code: str
    url: str
    scan_count: int = 0
    delivery_id: int | None = None


class CodesCreated(Out):
    batch_id: int
    first_serial: int
    last_serial: int
    count: int
    items: list[CodeOut]


class DeliveryOut(Out):
    id: int
    batch_id: int
    project_id: int
    first_serial: int
    last_serial: int
    code_count: int
    delivered_at: str | None
    note: str


class ProjectMaterial(Out):
    delivery_id: int
    delivered_at: str | None
    code_count: int
    category: str
    name: str
    brand: str
    model: str
    spec: str
    unit: str
    supplier: str
    batch_no: str
    production_date: str | None
    inspection: list[dict]
    has_report: bool
    trace_code: str | None
    trace_url: str | None


class ProjectMaterials(Out):
    items: list[ProjectMaterial]


class Stats(Out):
    batch_id: int
    codes: int
    codes_delivered: int
    codes_scanned: int
    scans: int
    known_customer_scans: int
    first_scan_at: str | None
    last_scan_at: str | None
    by_channel: dict[str, int]
    by_os: dict[str, int]


class FlagOut(Out):
    rule: Literal["many_clients", "other_site", "before_delivery"]
    label: str
    code: str
    serial: int
    at: str
    detail: dict


class Flags(Out):
    items: list[FlagOut]


class TraceOut(Out):
    """What a homeowner sees of a code (the scan page's content)."""

    code: str
    url: str
    material: TraceMaterial
    supplier: str
    batch_no: str
    production_date: str | None
    contract_ref: str
    inspection: list[dict]
    report_no: str
    inspection_agency: str
    report_url: str | None
    delivered: dict | None
    scan_count: int
    first_scanned_at: str | None


# -- serializers ---------------------------------------------------------------------------
def supplier_json(row: Supplier) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "credit_code": row.credit_code,
        "note": row.note,
        "created_at": iso(row.created_at),
    }


def material_json(row: Material) -> dict:
    keys = ("id", "category", "name", "brand", "model", "spec", "unit")
    return {key: getattr(row, key) for key in keys}


def batch_json(row: MaterialBatch) -> dict:
    report = None
    if row.report_key:
        report = {
            "content_type": row.report_type,
            "uploaded_at": iso(row.report_uploaded_at),
            "url": f"/api/v1/trace/batches/{row.id}/report",
        }
    return {
        "id": row.id,
        "batch_no": row.batch_no,
        "material": material_json(row.material),
        "supplier": supplier_json(row.supplier),
        "production_date": row.production_date.isoformat() if row.production_date else None,
        "quantity": row.quantity,
        "contract_ref": row.contract_ref,
        "report_no": row.report_no,
        "inspection_agency": row.inspection_agency,
        "inspection": row.inspection or [],
        "report": report,
        "created_at": iso(row.created_at),
    }


def code_json(row: TraceCode) -> dict:
    return {
        "serial": row.serial,
        "code": row.code,
        "url": codes.url(row.code),
        "scan_count": row.scan_count,
        "delivery_id": row.delivery_id,
    }


def codes_created_json(batch_id: int, pairs) -> dict:
    """The codes just generated: (serial, code) pairs in serial order."""
    items = [{"serial": s, "code": c, "url": codes.url(c)} for s, c in pairs]
    first, last = (items[0]["serial"], items[-1]["serial"]) if items else (None, None)
    return {
        "batch_id": batch_id,
        "first_serial": first,
        "last_serial": last,
        "count": len(items),
        "items": items,
    }


def delivery_json(row: MaterialDelivery) -> dict:
    return {
        "id": row.id,
        "batch_id": row.batch_id,
        "project_id": row.project_id,
        "first_serial": row.first_serial,
        "last_serial": row.last_serial,
        "code_count": row.code_count,
        "delivered_at": iso(row.delivered_at),
        "note": row.note,
    }


def project_material_json(row) -> dict:
    """A row of deliveries.MATERIALS."""
    return {
        "delivery_id": row.id,
        "delivered_at": iso(row.delivered_at),
        "code_count": row.code_count,
        "category": row.category,
        "name": row.name,
        "brand": row.brand,
        "model": row.model,
        "spec": row.spec,
        "unit": row.unit,
        "supplier": row.supplier,
        "batch_no": row.batch_no,
        "production_date": row.production_date.isoformat() if row.production_date else None,
        "inspection": row.inspection or [],
        "has_report": bool(row.has_report),
        "trace_code": row.trace_code,
        "trace_url": codes.url(row.trace_code) if row.trace_code else None,
    }


def stats_json(stats: dict) -> dict:
    return {
        **stats,
        "first_scan_at": iso(stats["first_scan_at"]),
        "last_scan_at": iso(stats["last_scan_at"]),
    }


def flag_json(flag: anomalies.Flag) -> dict:
    return {
        "rule": flag.rule,
        "label": flag.label,
        "code": flag.code,
        "serial": flag.serial,
        "at": iso(flag.at),
        "detail": flag.detail,
    }


def trace_json(view: ScanView) -> dict:
    """The scan page's content as JSON (the mini program's trace page)."""
    delivered = None
    if view.delivered_at is not None:
        delivered = {"community": view.community or "", "delivered_at": iso(view.delivered_at)}
    return {
        "code": view.code,
        "url": view.url,
        "material": {
            key: getattr(view, key)
            for key in ("category", "name", "brand", "model", "spec", "unit")
        },
        "supplier": view.supplier,
        "batch_no": view.batch_no,
        "production_date": view.production_date.isoformat() if view.production_date else None,
        "contract_ref": view.contract_ref,
        "inspection": view.inspection,
        "report_no": view.report_no,
        "inspection_agency": view.inspection_agency,
        "report_url": f"{view.url}/report" if view.has_report else None,
        "delivered": delivered,
        "scan_count": view.scan_count,
        "first_scanned_at": iso(view.first_scanned_at),
    }
