"""GET /mini/v1/openapi.json: the OpenAPI 3 document of every /mini/v1 endpoint."""

from __future__ import annotations

from miniprogram_api import bp
from miniprogram_api.openapi_schemas import SCHEMAS, obj, ref

ERRORS = {
    400: "请求参数有误",
    401: "未登录或登录已过期",
    404: "不存在",
    409: "状态冲突",
    413: "上传内容过大",
    429: "操作太频繁",
    502: "微信服务不可用",
}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def op(summary: str, ok: str, errors=(401,), body=None, params=(), status=200, public=False):
    """One operation: its JSON body (if any), its success schema and its error answers."""
    responses = {str(status): {"description": "成功", **_json(ref(ok))}}
    for code in errors:
        responses[str(code)] = {"description": ERRORS[code], **_json(ref("Error"))}
    spec = {"summary": summary, "responses": responses}
    if params:
        spec["parameters"] = [
            {"name": n, "in": "path", "required": True, "schema": ID} for n in params
        ]
    if body is not None:
        spec["requestBody"] = {"required": True, **_json(body)}
    if public:
        spec["security"] = []
    return spec


def _text(max_len: int) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_len}


REASON = obj([], {"reason": _text(500)})
FEED_PARAMS = [
    {"name": "before", "in": "query", "required": False, "schema": {"type": "string"}},
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 50},
    },
]
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": obj(["file"], {"file": {"type": "string", "format": "binary"}})
        }
    },
}
SUBSCRIBE = obj(
    ["results"],
    {
        "results": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 20,
            "additionalProperties": {
                "type": "string",
                "enum": ["accept", "reject", "ban", "filter"],
            },
        }
    },
)
NODE_PATH = ("project_id", "node_id")


def build() -> dict:
    feed = op(
        "项目动态（日志与巡检，新的在前）", "FeedPage", (400, 401, 404), params=["project_id"]
    )
    feed["parameters"] += FEED_PARAMS
    upload = op("上传一张照片，得到 photo_token", "Upload", (400, 401, 413), status=201)
    upload["requestBody"] = UPLOAD_BODY
    paths = {
        "/login": {
            "post": op(
                "wx.login 的 code 换取会话令牌",
                "Login",
                (400, 429, 502),
                obj(["code"], {"code": _text(128)}),
                public=True,
            )
        },
        "/bind": {
            "post": op(
                "用邀请码或手机号绑定业主档案",
                "Me",
                (400, 401, 404, 409, 429, 502),
                obj([], {"invite_code": _text(16), "phone_code": _text(128)}),
            )
        },
        "/me": {"get": op("当前用户", "Me")},
        "/projects": {"get": op("我的项目", "ProjectList")},
        "/projects/{project_id}": {
            "get": op("项目详情", "ProjectDetail", (401, 404), params=["project_id"])
        },
        "/projects/{project_id}/feed": {"get": feed},
        "/projects/{project_id}/nodes/{node_id}/accept": {
            "post": op("确认节点验收", "Node", (401, 404, 409), params=NODE_PATH)
        },
        "/projects/{project_id}/nodes/{node_id}/reject": {
            "post": op(
                "节点验收不通过",
                "Node",
                (400, 401, 404, 409),
                obj(
                    ["reason"],
                    {
                        "reason": _text(1000),
                        "photos": {"type": "array", "maxItems": 9, "items": {"type": "string"}},
                    },
                ),
                params=NODE_PATH,
            )
        },
        "/uploads": {"post": upload},
        "/change-orders/{order_id}/approve": {
            "post": op(
                "同意预算调整", "Decision", (400, 401, 404, 409), REASON, params=["order_id"]
            )
        },
        "/change-orders/{order_id}/reject": {
            "post": op(
                "拒绝预算调整", "Decision", (400, 401, 404, 409), REASON, params=["order_id"]
            )
        },
        "/subscriptions": {
            "post": op("记录订阅消息授权结果", "Subscriptions", (400, 401), SUBSCRIBE)
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "装修客户管家 小程序 API", "version": "1.0.0"},
        "servers": [{"url": "/mini/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"session": []}],
    }


@bp.get("/openapi.json")
def openapi():
    return build()
