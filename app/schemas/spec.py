"""The two OpenAPI documents, generated from the declared shapes (spectree over pydantic v2).

    from app.schemas.spec import API, endpoint

    @bp.post("/auto-replies")
    @endpoint(API, json=AutoReplyIn, ok=AutoReply, status=201, allow=EDITORS, tag="自动回复")
    def create_auto_reply(json: AutoReplyIn):
        ...  # its docstring is the operation's summary in the document

`endpoint` declares a route once: its JSON body (`json=`) or multipart form (`form=`),
query string (`query=`), its success shape and status, the error statuses it may answer,
and who may call it (`allow=`, checked first: 403 before any 400). spectree validates the
request before the view runs and hands it the parsed model (an argument named `json`,
`form` or `query`); a bad request never reaches the view: 400 with the envelope and a
Chinese message per field (app.schemas.base.field_messages). A JSON body must be an object:
`[1]`, `"x"`, `true` are refused even when every field is optional. A body is required
(in the document and by the route) exactly when `{}` would be refused (body_required):
left out or empty, it is a 400 saying so under "body"; otherwise leaving it out is `{}`.
Every staff API answer passes through access.redact_money (no money for customer service).

Documents: /api/v1/openapi.json (staff, bearer token) and /mini/v1/openapi.json (mini
program, session token), each with a browsable page at …/docs/swagger/ whose script and styles
are inlined from the installed `offapi` package (no CDN). A route is in a document exactly
when `endpoint` declares it with that document's spec (spectree's strict mode);
tests/api/test_openapi.py checks that every routed path is documented and nothing else.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable

import orjson
from flask import Flask, current_app, g, request
from pydantic import BaseModel, ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.model_adapter.pydantic_adapter import PydanticModelAdapter
from spectree.page import PAGE_TEMPLATES
from spectree.plugins.flask_plugin import FlaskPlugin

from app.core.errors import Invalid
from app.schemas.base import ErrorEnvelope, field_messages
from app.services.customers import access

# Swagger UI as offapi inlines it, told not to send the document to validator.swagger.io
# (its default badge): nothing on the page may reach outside the server.
SWAGGER_PAGE = PAGE_TEMPLATES["swagger"].replace(
    "dom_id: '#swagger-ui',", "dom_id: '#swagger-ui',\n        validatorUrl: null,", 1
)
# orjson refuses (TypeError) models, dataclasses, datetimes, subclasses and non-str keys.
_PLAIN_ONLY = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
_PLAIN_ONLY |= orjson.OPT_PASSTHROUGH_SUBCLASS


class _Adapter(PydanticModelAdapter):
    """spectree's pydantic adapter with one check made cheap. After validating an answer,
    spectree walks all of it in Python for a model instance it would have to serialize
    itself (is_partial_model_instance): on a feed page of 20 entries that walk cost more
    CPU than the rest of the request. Our answers are plain JSON values, which orjson
    encodes in one C pass while refusing everything the walk looks for; only an answer it
    refuses is walked, so the result is the walk's."""

    def is_partial_model_instance(self, value) -> bool:
        try:
            orjson.dumps(value, option=_PLAIN_ONLY)
        except TypeError:  # a model, a dataclass, or a value orjson cannot tell: walk
            return super().is_partial_model_instance(value)
        return False


ADAPTER = _Adapter()


class _Plugin(FlaskPlugin):
    """spectree's Flask plugin, checking answers against their declared shapes only where
    RESPONSE_CHECKS is on (development and tests, not production). The shapes document the
    answers, and the suite checks every answer it receives against them; in production the
    check built a pydantic model of each answer (60 objects for a feed page: a tenth of the
    page's time in the app), to turn a serializer's mistake into a 500. Requests are always
    validated."""

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        skip = skip_validation or not current_app.config["RESPONSE_CHECKS"]
        return super().validate_response(resp, resp_model, skip, force_resp_serialize)


BEARER = [SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))]


def _spec(path: str, title: str, description: str) -> SpecTree:
    return SpecTree(
        "flask",
        backend=_Plugin,
        path=path,
        title=title,
        description=description,
        version="1.0.0",
        mode="strict",
        annotations=True,
        validation_error_status=400,
        validation_error_model=ErrorEnvelope,
        security_schemes=BEARER,
        security={"bearer": []},
        page_templates={"swagger": SWAGGER_PAGE},
        model_adapter=ADAPTER,
    )


API = _spec(
    "api/v1/docs",
    "装修客户管家 员工 API",
    "员工与集成使用的 JSON API。请求头 Authorization: Bearer <令牌>（flask staff token 生成）。",
)
MINI = _spec(
    "mini/v1/docs",
    "装修客户管家 小程序 API",
    "小程序使用的 JSON API。先用 wx.login 的 code 调用 POST /login 换取会话令牌，"
    "之后请求头 Authorization: Bearer <令牌>。",
)


def _model_of(error, models: dict[str, type[BaseModel]]) -> type[BaseModel] | None:
    return next((m for m in models.values() if m.__name__ == error.title), None)


def _refuse_non_object() -> None:
    """A JSON body, when one is sent, must be an object (`[1]`, `"x"`, `null` are refused
    even where every field is optional: spectree would read them as `{}`)."""
    if not request.get_data(cache=True).strip():
        return
    if isinstance(request.get_json(silent=True), dict):  # parsed (and cached) by spectree
        return
    message = "请求体必须是 JSON 对象"
    if not request.is_json:
        message = "请求体必须是 JSON 对象（Content-Type: application/json）"
    else:
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError:  # not JSON, not UTF-8, or a lone surrogate ("\ud800")
            message = "请求体不是有效的 JSON（UTF-8，不含单独的代理字符）"
    raise Invalid(message, fields={"body": message})


BODY_MISSING = "缺少请求体：需要一个 JSON 对象"
FORM_MISSING = "缺少请求体：需要 multipart/form-data 表单"
# Component names (spectree's naming) of request bodies that may be left out, per document.
_OPTIONAL_BODIES: dict[int, set[str]] = {}


def body_required(model: type[BaseModel]) -> bool:
    """A body is required exactly when no body (read as `{}`) would be refused."""
    try:
        model.model_validate({})
    except ValidationError:
        return True
    return False


def _validate_absent(model: type[BaseModel], message: str) -> BaseModel:
    """No body: `{}` where the body may be left out; a 400 saying so (`message`) where it may
    not, with the fields it must have."""
    try:
        return model.model_validate({})
    except ValidationError as exc:
        fields = {"body": message, **field_messages(exc, model)}
        raise Invalid(message, fields=fields) from exc


def _refuse_missing_body(models: dict[str, type[BaseModel]]) -> None:
    """No body (or an empty one) where the route needs one: a 400 that says so first."""
    if request.get_data(cache=True).strip() or request.form or request.files:
        return
    for kind, message in (("json", BODY_MISSING), ("form", FORM_MISSING)):
        if kind in models and body_required(models[kind]):
            _validate_absent(models[kind], message)


def _note_optional_body(spec: SpecTree, model: type[BaseModel] | None) -> None:
    if model is not None and not body_required(model):
        _OPTIONAL_BODIES.setdefault(id(spec), set()).add(spec.naming_strategy(model))


def document(spec: SpecTree) -> dict:
    """The OpenAPI document; spectree marks every request body required, the routes agree
    only where a body is (body_required): the others are marked optional here."""
    optional = _OPTIONAL_BODIES.get(id(spec), set())
    for methods in spec.spec["paths"].values():
        for operation in methods.values():
            body = operation.get("requestBody")
            refs = [c["schema"].get("$ref", "") for c in (body or {}).get("content", {}).values()]
            if body and any(ref.rsplit("/", 1)[-1] in optional for ref in refs):
                body["required"] = False
    return spec.spec


def _require_form(model: type[BaseModel]) -> None:
    """A form route answers a JSON (or other) body with 400, not with an empty form."""
    if request.context.form is not None:
        return
    if request.get_data(cache=True).strip():
        message = "请求体必须是 multipart/form-data"
        raise Invalid(message, fields={"body": message})
    _set_context(form=_validate_absent(model, FORM_MISSING))


def _validate(model: type[BaseModel], data: dict) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("请求参数有误，请检查后重试", fields=field_messages(exc, model)) from exc


def _set_context(**values) -> None:
    request.context = request.context._replace(**values)


def _refuse_bad_input(models: dict[str, type[BaseModel]], allow: Callable | None) -> Callable:
    """spectree's `before` hook: who may call comes first (403 before 400, so a refused
    role learns nothing about the shapes); a failed validation becomes Invalid with field
    messages; a JSON body that is present but not an object is refused outright."""

    def before(_req, _resp, error, _instance, _adapter) -> None:
        if allow is not None:
            allow()
        if "json" in models:
            _refuse_non_object()
        if "json" in models or "form" in models:  # only a body can be missing
            _refuse_missing_body(models)
        if error is not None:
            fields = field_messages(error, _model_of(error, models))
            raise Invalid("请求参数有误，请检查后重试", fields=fields)
        if "json" in models and request.context.json is None:  # no body, or an empty form
            _set_context(json=_validate_absent(models["json"], BODY_MISSING))
        if "form" in models:
            _require_form(models["form"])

    return before


def endpoint(
    spec: SpecTree,
    *,
    json: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    ok: type[BaseModel] | None = None,
    status: int = 200,
    errors: Iterable[int] = (),
    tag: str = "",
    public: bool = False,
    allow: Callable[[], object] | None = None,
    body_limit: Callable[[], int] | None = None,
) -> Callable:
    """Declare a route's shapes (see the module docstring). `form`: a multipart/form-data
    body (files typed app.schemas.base.File/Files); `errors`: the statuses besides 400 it
    may answer (401 is added unless `public`, 403 with `allow`); `public`: no token needed;
    `allow`: called before validation, raises Forbidden when this caller may not use the
    route (app.api.roles); `body_limit`: the largest body in bytes, when it is not
    MAX_BODY_BYTES (photo uploads), set before the body is read (413 beyond)."""
    codes = {400, *errors} | (set() if public else {401}) | ({403} if allow else set())
    responses = {f"HTTP_{code}": ErrorEnvelope for code in sorted(codes)}
    responses[f"HTTP_{status}"] = ok
    models = {k: v for k, v in (("json", json), ("form", form), ("query", query)) if v is not None}
    _note_optional_body(spec, json or form)
    validate = _for_staff(
        spec,
        spec.validate(
            json=json,
            form=form,
            query=query,
            resp=Response(**responses),
            tags=[tag] if tag else (),
            security={} if public else None,
            before=_refuse_bad_input(models, allow),
        ),
    )
    return validate if body_limit is None else _with_body_limit(validate, body_limit)


def _for_staff(spec: SpecTree, validate: Callable) -> Callable:
    """Staff API answers pass through access.redact_money before their shape is checked:
    a role that sees no money gets every money figure as null, on every route."""
    if spec is not API:
        return validate

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def view(*args, **kwargs):
            answer = func(*args, **kwargs)
            staff = g.get("staff")
            if isinstance(answer, tuple):
                return (access.redact_money(staff, answer[0]), *answer[1:])
            return access.redact_money(staff, answer)

        # spectree reads the request models from the annotations, resolved in the view's
        # own module (they are strings under `from __future__ import annotations`).
        view.__annotations__ = typing.get_type_hints(func, include_extras=True)
        return validate(view)

    return decorate


def _with_body_limit(validate: Callable, body_limit: Callable[[], int]) -> Callable:
    def decorate(func: Callable) -> Callable:
        validated = validate(func)

        @functools.wraps(validated)  # __wrapped__: spectree still finds its declaration
        def view(*args, **kwargs):
            request.max_content_length = body_limit()
            return validated(*args, **kwargs)

        return view

    return decorate


def init_app(app: Flask) -> None:
    """Serve both documents and their pages (call after the blueprints are registered):
    /api/v1/openapi.json and /mini/v1/openapi.json, the pages at …/docs/swagger/ (spectree
    skips every route under its own path, so its path is docs/ below each API's prefix)."""
    for spec, prefix in ((API, "/api/v1"), (MINI, "/mini/v1")):
        spec.register(app)
        app.add_url_rule(
            f"{prefix}/openapi.json",
            endpoint=f"openapi_{prefix.strip('/').replace('/', '_')}",
            view_func=lambda spec=spec: app.json.response(document(spec)),
        )
