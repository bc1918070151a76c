"""The console's forms (WTForms through Flask-WTF: each carries its CSRF token).

Validators here check shape (required, length, number); the services check meaning and
raise Invalid(fields), which `apply_errors` puts next to the same fields.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.console.field_html import FastMeta
from app.models import FOLLOWUP_METHODS, GENDERS, ROLE_LABELS, ROLES, STAGES
from app.models.progress import HAZARD_LEVELS
from app.schemas.base import storable
from app.services.desk import submissions

REQUIRED = "此项不能为空"
REPLAYED = "该表单已提交过，没有重复创建"
STALE_PAGE = "页面已过期，请刷新页面后重试"
ASCII_INTEGER = re.compile(r"-?[0-9]{1,12}")
# Yuan as people type it: ASCII digits, at most two decimals, an optional minus and commas.
YUAN = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,2})?")
GENDER_LABELS = {"unknown": "未知", "male": "男", "female": "女"}


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def required() -> InputRequired:
    return InputRequired(message=REQUIRED)


def at_most(n: int) -> Length:
    return Length(max=n, message=f"不能超过 {n} 个字")


def apply_errors(form: FlaskForm, fields: dict | None, message: str = "") -> None:
    """Put a service's field messages next to the fields; others go to the form's top."""
    for name, text in (fields or {}).items():
        if name in form:
            form[name].errors = [*form[name].errors, text]
        else:
            form.form_errors.append(text)
    if message and not fields:
        form.form_errors.append(message)


def unstorable(values) -> str | None:
    """The message for the first of `values` a database cannot store (a NUL character), or
    None: PostgreSQL refuses such text with an error, SQLite would keep it."""
    for value in values:
        try:
            storable(value)
        except ValueError as exc:
            return str(exc)
    return None


def unshown_errors(form: FlaskForm, name: str) -> str:
    """Messages a page may show by no field (the form of a button, "action"; a hidden
    field's; text a database cannot store, whose field may be hidden): said at the top."""
    shown_by_none = list(form.form_errors) if name == "action" else []
    for field in form:
        if isinstance(field, HiddenField) and field.name != "csrf_token":
            shown_by_none += [e for e in field.errors if "空字符" not in e]
    return "；".join([*shown_by_none, *getattr(form, "page_errors", [])])


def ascii_int(raw) -> int:
    """int() of ASCII digits only: int() would read "１２" or "١٢" as 12."""
    if isinstance(raw, int):
        return raw
    text = (raw or "").strip()
    if not ASCII_INTEGER.fullmatch(text):
        raise ValueError("只能填写半角数字 0-9")
    return int(text)


class AsciiIntegerField(IntegerField):
    """A whole number written in ASCII digits (IntegerField would take any Unicode digit)."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            self.data = ascii_int(valuelist[0])
        except ValueError:
            self.data = None
            raise


class IdSelectField(SelectField):
    """A choice of a row by id (ASCII digits; 0 for none)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=ascii_int, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = ascii_int(valuelist[0])
            except ValueError:
                raise ValueError("选项无效，请重新选择") from None


class YuanField(StringField):
    """An amount in yuan typed as ASCII digits with up to two decimals (commas allowed);
    `fen` is it in fen. Full-width or other Unicode digits are refused, not read."""

    MESSAGE = "金额只能用半角数字 0-9 填写，最多两位小数，减项写负数（如 6800、-1200.50）"

    def pre_validate(self, form) -> None:
        if not YUAN.fullmatch(self._plain()):
            raise ValidationError(self.MESSAGE)

    def _plain(self) -> str:
        return (self.data or "").strip().replace(",", "")

    @property
    def fen(self) -> int:
        return int(Decimal(self._plain()) * 100)


class Form(FlaskForm):
    """A console form: CSRF token (Flask-WTF), fields written by field_html."""

    Meta = FastMeta


class ConsoleForm(Form):
    """Every console form: besides its fields' own checks, nothing posted (a field or any
    other value of the form) may be text a database cannot store; such a post is refused
    with the message next to the field, before any service sees it."""

    page_errors: list[str]

    def validate(self, extra_validators=None) -> bool:
        self.page_errors = []
        valid = super().validate(extra_validators)
        for name in request.form:
            message = unstorable(request.form.getlist(name))
            if message is None:
                continue
            valid = False
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, message]
            # Also at the top of the page: the field may be hidden, or its form not shown.
            label = field.label.text if field is not None and field.label.text else name
            self.page_errors.append(f"{label}：{message}")
        return valid


def _fresh(form, field) -> None:
    """A page open longer than the claims are kept (submissions.RETENTION) is stale."""
    if not submissions.is_fresh(field.data or ""):
        raise ValidationError(STALE_PAGE)


class OnceForm(ConsoleForm):
    """A create form: its one-time nonce (issued with the page) makes a second post of the
    same form create nothing (app.services.desk.submissions)."""

    nonce = HiddenField(validators=[InputRequired(message=STALE_PAGE), _fresh])


class LoginForm(ConsoleForm):
    login = StringField("姓名或手机号", [required(), at_most(50)])
    password = PasswordField("密码", [required(), at_most(128)])
    next = HiddenField()


class PasswordForm(ConsoleForm):
    current = PasswordField("当前密码", [required()])
    new = PasswordField("新密码", [required()])
    confirm = PasswordField("再次输入新密码", [required()])


class ProfileForm(ConsoleForm):
    version = HiddenField()
    name = StringField("姓名", [at_most(100)])
    nickname = StringField("昵称", [at_most(100)])
    phone = StringField("手机号（留空不修改）", [Optional(), at_most(20)])
    gender = SelectField("性别", choices=options((g, GENDER_LABELS[g]) for g in GENDERS))
    birthday = StringField("生日（YYYY-MM-DD）", [at_most(10)])
    city = StringField("城市", [at_most(50)])
    community = StringField("小区", [at_most(100)])
    address = StringField("地址", [at_most(255)])
    source_channel = StringField("来源渠道", [at_most(64)])
    owner_id = IdSelectField("负责人")


class StageForm(ConsoleForm):
    version = HiddenField()
    stage = SelectField("新阶段", choices=options(STAGES))
    reason = TextAreaField("变更原因", [required(), at_most(500)])


class NoteForm(OnceForm):
    text = TextAreaField("备注", [required(), at_most(5000)])


class TagForm(ConsoleForm):
    tag = StringField("标签（维度:值）", [required(), at_most(60)])


class ReplyForm(ConsoleForm):
    nonce = HiddenField()
    text = TextAreaField("回复内容", [required(), at_most(600)])


class TemplateNoticeForm(ConsoleForm):
    nonce = HiddenField()
    kind = HiddenField()
    topic = StringField("主题（20 字以内）", [required(), at_most(20)])
    note = StringField("说明（20 字以内，可不填）", [at_most(20)])


class MergeForm(ConsoleForm):
    other_id = AsciiIntegerField(
        "要合并进来的客户编号", [InputRequired(message="请填写客户编号（数字）")]
    )
    reason = StringField("原因", [at_most(500)])


class LogForm(OnceForm):
    node_id = IdSelectField("节点")
    text = TextAreaField("今日施工内容", [required(), at_most(2000)])
    photos = MultipleFileField("照片（最多 9 张）")


class ReportForm(OnceForm):
    node_id = IdSelectField("节点")
    text = TextAreaField("报告摘要", [at_most(2000)])
    finding = TextAreaField("巡检发现", [required(), at_most(500)])
    hazard = SelectField("隐患等级", choices=options(HAZARD_LEVELS))
    photo = MultipleFileField("现场照片（1 张）")


class NodeForm(ConsoleForm):
    status = HiddenField()


class RectifyForm(ConsoleForm):
    note = TextAreaField("整改说明", [at_most(1000)])


class ChangeOrderForm(OnceForm):
    item = StringField("调整项目", [required(), at_most(200)])
    amount = YuanField("金额（元，减项写负数）", [required(), at_most(16)])


class StaffForm(ConsoleForm):
    name = StringField("姓名", [required(), at_most(50)])
    phone = StringField("手机号", [Optional(), at_most(20)])
    wecom_userid = StringField("企业微信账号", [Optional(), at_most(64)])
    roles = SelectMultipleField("角色", choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    store = SelectField("门店", validate_choice=False)
    password = PasswordField("初始密码", [required()])


class StaffEditForm(ConsoleForm):
    roles = SelectMultipleField("角色", choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    store = SelectField("门店", validate_choice=False)
    active = BooleanField("在职")


class ResetPasswordForm(ConsoleForm):
    password = PasswordField("新密码", [required()])
    confirm = PasswordField("再次输入", [required()])


class ActionForm(ConsoleForm):
    """A button that changes something: only the CSRF token."""


class TagRuleForm(ConsoleForm):
    dimension = StringField("维度", [required(), at_most(20)])
    value = StringField("值", [required(), at_most(50)])
    words = TextAreaField("关键词（每行一个）", [required()])
    exclusions = TextAreaField("排除词（每行一个，可不填）")


class AutoReplyForm(ConsoleForm):
    keyword = StringField("关键词", [required(), at_most(100)])
    match = SelectField("匹配方式", choices=options([("contains", "包含"), ("exact", "完全一致")]))
    reply = TextAreaField("回复内容", [required(), at_most(600)])
    priority = AsciiIntegerField(
        "优先级（越小越先）", [Optional(), NumberRange(0, 10000, "0 到 10000")], default=100
    )
    active = BooleanField("启用", default=True)


class NodeTemplateForm(ConsoleForm):
    name = StringField("节点名称", [required(), at_most(50)])
    position = AsciiIntegerField("顺序", [Optional(), NumberRange(1, 1000, "1 到 1000")])
    duration_days = AsciiIntegerField("工期（天）", [Optional(), NumberRange(1, 365, "1 到 365")])
    active = BooleanField("启用", default=True)


class FollowUpForm(Form):
    method = SelectField("方式", choices=options((m, m) for m in FOLLOWUP_METHODS))
    content = TextAreaField("内容", [required(), at_most(2000)])
    result = StringField("结果", [at_most(500)])
    next_at = DateTimeLocalField("下次跟进时间", [Optional()], format="%Y-%m-%dT%H:%M")


class AssignRuleForm(Form):
    name = StringField("规则名称", [required(), at_most(100)])
    position = IntegerField("顺序（小的先匹配）", [Optional(), NumberRange(0, 100000)], default=100)
    store_id = SelectField("门店", coerce=int, validate_choice=False)
    city = StringField("城市", [at_most(50)])
    region = StringField("区域", [at_most(50)])
    source = StringField("来源渠道（如 mp、form、mp_qr:展会）", [at_most(100)])
    tags = StringField("标签（维度:值，多个用逗号分隔，须全部满足）", [at_most(300)])
    rep_ids = SelectMultipleField("轮流分配给", coerce=int, validate_choice=False)
    active = BooleanField("启用", default=True)


class SalesRepForm(Form):
    off = BooleanField("休息（不接新线索）")
    daily_cap = IntegerField("每日上限（空为不限）", [Optional(), NumberRange(0, 10000)])
