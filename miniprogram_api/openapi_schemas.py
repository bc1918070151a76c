"""JSON schemas of the mini-program API's bodies (OpenAPI 3.0 components)."""

from __future__ import annotations


def nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], properties: dict, **extra) -> dict:
    return {"type": "object", "required": required, "properties": properties, **extra}


TEXT = {"type": "string"}
INT = {"type": "integer"}
DAY = nullable("string", format="date")
TIME = nullable("string", format="date-time")

PHOTO = obj(
    ["url", "thumb_url"],
    {
        "url": nullable("string"),
        "thumb_url": nullable("string"),
        "width": nullable("integer"),
        "height": nullable("integer"),
    },
)
NODE = obj(
    ["id", "name", "status", "status_label", "delayed"],
    {
        "id": INT,
        "name": TEXT,
        "position": INT,
        "status": {
            "type": "string",
            "enum": ["not_started", "in_progress", "pending_acceptance", "accepted", "rectifying"],
        },
        "status_label": TEXT,
        "planned_start": DAY,
        "planned_end": DAY,
        "actual_start": DAY,
        "actual_end": DAY,
        "accepted_at": TIME,
        "accepted_by_customer_id": nullable("integer"),
        "rejection_count": INT,
        "delayed": {"type": "boolean"},
    },
)
BUDGET = obj(
    ["contract_fen", "approved_changes_fen", "total_fen"],
    {
        "contract_fen": INT,
        "approved_changes_fen": INT,
        "total_fen": INT,
    },
)
CHANGE_ORDER = obj(
    ["id", "item", "amount_fen", "status"],
    {
        "id": INT,
        "project_id": INT,
        "item": TEXT,
        "amount_fen": INT,
        "status": {"type": "string", "enum": ["proposed", "approved", "rejected"]},
        "status_label": TEXT,
        "reason": TEXT,
        "created_at": TIME,
        "decided_at": TIME,
    },
)
PROGRESS = obj(
    ["accepted", "total", "text"],
    {
        "accepted": INT,
        "total": INT,
        "text": TEXT,
        "current_node": nullable("string"),
    },
)
SUMMARY = {
    "id": INT,
    "customer_id": INT,
    "address": TEXT,
    "community": TEXT,
    "package_name": TEXT,
    "status": TEXT,
    "status_label": nullable("string"),
    "progress": ref("Progress"),
    "delayed": {"type": "boolean"},
}
DETAIL = {
    **SUMMARY,
    "area_m2": nullable("string"),
    "contract_amount_fen": INT,
    "contract_date": DAY,
    "planned_start": DAY,
    "planned_end": DAY,
    "actual_completion": DAY,
    "team": {"type": "object"},
    "nodes": {"type": "array", "items": ref("Node")},
    "budget": ref("Budget"),
    "change_orders": {"type": "array", "items": ref("ChangeOrder")},
}
FINDING = obj(
    ["text", "hazard"],
    {
        "text": TEXT,
        "hazard": TEXT,
        "hazard_label": nullable("string"),
        "photo": {**ref("Photo"), "nullable": True},
    },
)
ENTRY = obj(
    ["id", "kind", "text", "photos", "findings", "created_at"],
    {
        "id": INT,
        "kind": {"type": "string", "enum": ["log", "qc"]},
        "kind_label": TEXT,
        "node_id": nullable("integer"),
        "node": nullable("string"),
        "text": TEXT,
        "photos": {"type": "array", "items": ref("Photo")},
        "findings": {"type": "array", "items": ref("Finding")},
        "author": nullable("object"),
        "created_at": TIME,
    },
)
ME = obj(
    ["customer_id", "name", "stage", "bound"],
    {
        "customer_id": INT,
        "name": TEXT,
        "stage": TEXT,
        "stage_label": TEXT,
        "bound": {"type": "boolean"},
        "project_ids": {"type": "array", "items": INT},
    },
)
ERROR = obj(
    ["error"],
    {
        "error": obj(
            ["code", "message"], {"code": TEXT, "message": TEXT, "fields": {"type": "object"}}
        ),
        "request_id": TEXT,
    },
)

SCHEMAS = {
    "Error": ERROR,
    "Me": ME,
    "Photo": PHOTO,
    "Node": NODE,
    "Budget": BUDGET,
    "ChangeOrder": CHANGE_ORDER,
    "Progress": PROGRESS,
    "Finding": FINDING,
    "FeedEntry": ENTRY,
    "ProjectSummary": obj(["id", "progress"], SUMMARY),
    "ProjectDetail": obj(["id", "progress", "nodes", "budget"], DETAIL),
    "FeedPage": obj(
        ["items", "next_cursor"],
        {
            "items": {"type": "array", "items": ref("FeedEntry")},
            "next_cursor": nullable("string"),
        },
    ),
    "ProjectList": obj(["items"], {"items": {"type": "array", "items": ref("ProjectSummary")}}),
    "Login": obj(
        ["token", "expires_in", "me"],
        {
            "token": TEXT,
            "expires_in": INT,
            "first_login": {"type": "boolean"},
            "me": ref("Me"),
        },
    ),
    "Upload": obj(["photo_token"], {"photo_token": TEXT}),
    "Decision": obj(
        ["change_order", "budget"],
        {
            "change_order": ref("ChangeOrder"),
            "budget": ref("Budget"),
        },
    ),
    "Subscriptions": obj(
        ["items"],
        {
            "items": {
                "type": "array",
                "items": obj(
                    ["template_id", "status", "remaining"],
                    {"template_id": TEXT, "status": TEXT, "remaining": INT},
                ),
            }
        },
    ),
}
