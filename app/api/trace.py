"""Material traceability (staff API): suppliers, materials, batches and their inspection
reports, trace codes (QR PNG/SVG, label sheets), deliveries to sites, scan statistics and
anomalies. The catalog is read by every staff member and kept by admins and managers;
deliveries are recorded by them or the project's PM."""

from __future__ import annotations

from flask import Response, request

from app.api import bp, current_staff, roles
from app.core.extensions import db
from app.schemas import trace as shapes
from app.schemas.base import Page
from app.schemas.pagination import page_body
from app.schemas.spec import API, endpoint
from app.services.projects import projects
from app.services.trace import anomalies, catalog, codes, deliveries, labels, qr, reports

KEEPERS = roles("admin", "manager")  # the catalog, reports, codes and labels
DELIVERERS = roles("admin", "manager", "pm")
WATCHERS = roles("admin", "manager", "service")  # scan statistics and anomalies
TAG = "材料溯源"


def _binary(data: bytes, mimetype: str, filename: str | None = None) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/trace/suppliers")
@endpoint(
    API,
    json=shapes.SupplierIn,
    ok=shapes.SupplierOut,
    status=201,
    errors=(403, 409),
    allow=KEEPERS,
    tag=TAG,
)
def create_supplier(json: shapes.SupplierIn):
    """新增供应商"""
    supplier = catalog.create_supplier(shapes.text_fields(json))
    db.session.commit()
    return shapes.supplier_json(supplier), 201


@bp.get("/trace/suppliers")
@endpoint(API, query=shapes.ListQuery, ok=Page, tag=TAG)
def list_suppliers(query: shapes.ListQuery):
    """供应商列表（新的在前）"""
    rows, cursor = catalog.suppliers(query.before, query.limit)
    return page_body([shapes.supplier_json(r) for r in rows], cursor)


@bp.post("/trace/materials")
@endpoint(
    API,
    json=shapes.MaterialIn,
    ok=shapes.MaterialOut,
    status=201,
    errors=(403, 409),
    allow=KEEPERS,
    tag=TAG,
)
def create_material(json: shapes.MaterialIn):
    """新增材料（类别、品牌、型号、规格、单位）"""
    material = catalog.create_material(shapes.text_fields(json))
    db.session.commit()
    return shapes.material_json(material), 201


@bp.get("/trace/materials")
@endpoint(API, query=shapes.MaterialQuery, ok=Page, tag=TAG)
def list_materials(query: shapes.MaterialQuery):
    """材料列表（可按类别筛选）"""
    rows, cursor = catalog.materials(query.before, query.limit, query.category)
    return page_body([shapes.material_json(r) for r in rows], cursor)


@bp.post("/trace/batches")
@endpoint(
    API,
    json=shapes.BatchIn,
    ok=shapes.BatchOut,
    status=201,
    errors=(403, 404, 409),
    allow=KEEPERS,
    tag=TAG,
)
def create_batch(json: shapes.BatchIn):
    """新增批次：批次号、生产日期、数量、采购合同编号、质检结果"""
    fields = {**shapes.batch_fields(json), "material_id": json.material_id}
    batch = catalog.create_batch({**fields, "supplier_id": json.supplier_id}, current_staff())
    db.session.commit()
    return shapes.batch_json(batch), 201


@bp.get("/trace/batches")
@endpoint(API, query=shapes.BatchQuery, ok=Page, tag=TAG)
def list_batches(query: shapes.BatchQuery):
    """批次列表（可按材料筛选）"""
    rows, cursor = catalog.batches(query.before, query.limit, query.material_id)
    return page_body([shapes.batch_json(r) for r in rows], cursor)


@bp.get("/trace/batches/<int:batch_id>")
@endpoint(API, ok=shapes.BatchOut, errors=(404,), tag=TAG)
def get_batch(batch_id: int):
    """批次详情"""
    return shapes.batch_json(catalog.batch(batch_id))


@bp.patch("/trace/batches/<int:batch_id>")
@endpoint(
    API, json=shapes.BatchFields, ok=shapes.BatchOut, errors=(403, 404), allow=KEEPERS, tag=TAG
)
def update_batch(batch_id: int, json: shapes.BatchFields):
    """修改批次：质检结果、报告编号、检测机构、采购合同编号、数量、生产日期"""
    batch = catalog.update_batch(catalog.batch(batch_id), shapes.batch_fields(json))
    db.session.commit()
    return shapes.batch_json(batch)


@bp.post("/trace/batches/<int:batch_id>/report")
@endpoint(API, ok=shapes.BatchOut, errors=(403, 404, 413), allow=KEEPERS, tag=TAG)
def upload_report(batch_id: int):
    """上传质检报告（multipart/form-data，字段 report：PDF 或 JPG/PNG/WebP 图片，按内容校验）"""
    request.max_content_length = reports.max_request_bytes()
    batch = catalog.batch(batch_id)
    previous = reports.attach(batch, shapes.uploaded(request.files.get("report")))
    db.session.commit()
    reports.discard(previous)
    return shapes.batch_json(batch)


@bp.get("/trace/batches/<int:batch_id>/report")
@endpoint(API, errors=(404,), tag=TAG)
def download_report(batch_id: int):
    """下载质检报告原件"""
    batch = catalog.batch(batch_id)
    data, mimetype = reports.require(batch.report_key, batch.report_type)
    return _binary(data, mimetype)


@bp.post("/trace/batches/<int:batch_id>/codes")
@endpoint(
    API,
    json=shapes.CodesIn,
    ok=shapes.CodesCreated,
    status=201,
    errors=(403, 404),
    allow=KEEPERS,
    tag=TAG,
)
def generate_codes(batch_id: int, json: shapes.CodesIn):
    """为批次生成溯源码（每次最多 TRACE_MAX_CODES 个，总数不超过批次数量）"""
    first, last = codes.generate(catalog.batch(batch_id), json.count)
    db.session.commit()
    return shapes.codes_created_json(batch_id, codes.in_range(batch_id, first, last)), 201


@bp.get("/trace/batches/<int:batch_id>/codes")
@endpoint(API, query=shapes.CodesQuery, ok=Page, errors=(404,), tag=TAG)
def list_codes(batch_id: int, query: shapes.CodesQuery):
    """批次的溯源码（按序号）"""
    rows, cursor = codes.page(catalog.batch(batch_id).id, query.after, query.limit)
    return page_body([shapes.code_json(r) for r in rows], cursor)


@bp.get("/trace/codes/<string(maxLength=64):code>/qr.png")
@endpoint(API, errors=(404,), tag=TAG)
def code_png(code: str):
    """溯源码二维码 PNG"""
    return _binary(qr.png(codes.url(codes.require(code).code)), "image/png")


@bp.get("/trace/codes/<string(maxLength=64):code>/qr.svg")
@endpoint(API, errors=(404,), tag=TAG)
def code_svg(code: str):
    """溯源码二维码 SVG"""
    return _binary(qr.svg(codes.url(codes.require(code).code)), "image/svg+xml")


@bp.get("/trace/batches/<int:batch_id>/labels.pdf")
@endpoint(API, query=shapes.RangeQuery, errors=(403, 404), allow=KEEPERS, tag=TAG)
def label_sheet(batch_id: int, query: shapes.RangeQuery):
    """批次的 A4 标签页 PDF（每页 3×8 个标签；可选序号范围）"""
    batch = catalog.batch(batch_id)
    pairs = codes.in_range(batch.id, query.first_serial, query.last_serial)
    return _binary(labels.sheet(batch, pairs), "application/pdf", f"labels-{batch.id}.pdf")


@bp.post("/trace/batches/<int:batch_id>/deliveries")
@endpoint(
    API,
    json=shapes.DeliveryIn,
    ok=shapes.DeliveryOut,
    status=201,
    errors=(403, 404, 409),
    allow=DELIVERERS,
    tag=TAG,
)
def deliver(batch_id: int, json: shapes.DeliveryIn):
    """材料进场：整批或序号范围送到项目工地（通知业主并记入时间线）"""
    staff = current_staff()
    batch, project = catalog.batch(batch_id), projects.load_for_staff(staff, json.project_id)
    delivery = deliveries.deliver(batch, project, staff, **shapes.delivery_fields(json))
    db.session.commit()
    return shapes.delivery_json(delivery), 201


@bp.get("/trace/batches/<int:batch_id>/deliveries")
@endpoint(API, ok=Page, errors=(404,), tag=TAG)
def list_deliveries(batch_id: int):
    """批次的进场记录"""
    rows = deliveries.for_batch(catalog.batch(batch_id).id)
    return page_body([shapes.delivery_json(r) for r in rows], None)


@bp.get("/trace/batches/<int:batch_id>/stats")
@endpoint(API, ok=shapes.Stats, errors=(403, 404), allow=WATCHERS, tag=TAG)
def batch_stats(batch_id: int):
    """批次的扫码统计"""
    return shapes.stats_json(anomalies.statistics(catalog.batch(batch_id).id))


@bp.get("/trace/batches/<int:batch_id>/anomalies")
@endpoint(API, ok=shapes.Flags, errors=(403, 404), allow=WATCHERS, tag=TAG)
def batch_anomalies(batch_id: int):
    """批次的异常扫码：多设备集中扫描、他人工地业主扫描、进场前扫描"""
    flags = anomalies.for_batch(catalog.batch(batch_id).id)
    return {"items": [shapes.flag_json(f) for f in flags]}


@bp.get("/projects/<int:project_id>/materials")
@endpoint(API, ok=shapes.ProjectMaterials, errors=(404,), tag=TAG)
def project_materials(project_id: int):
    """项目的进场材料清单"""
    project = projects.load_for_staff(current_staff(), project_id)
    rows = deliveries.project_materials(project.id)
    return {"items": [shapes.project_material_json(r) for r in rows]}
