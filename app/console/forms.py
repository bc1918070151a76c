"""The console's forms (WTForms through Flask-WTF: each carries its CSRF token).

Validators here check shape (required, length, number); the services check meaning and
raise Invalid(fields), which `apply_errors` puts next to the same fields.
"""

from __future__ import annotations

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
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.models import FOLLOWUP_METHODS, GENDERS, ROLE_LABELS, ROLES, STAGES
from app.models.progress import HAZARD_LEVELS

REQUIRED = "此项不能为空"
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


class LoginForm(FlaskForm):
    login = StringField("姓名或手机号", [required(), at_most(50)])
    password = PasswordField("密码", [required(), at_most(128)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", [required()])
    new = PasswordField("新密码", [required()])
    confirm = PasswordField("再次输入新密码", [required()])


class ProfileForm(FlaskForm):
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
    owner_id = SelectField("负责人", coerce=int, validate_choice=False)


class StageForm(FlaskForm):
    version = HiddenField()
    stage = SelectField("新阶段", choices=options(STAGES))
    reason = TextAreaField("变更原因", [required(), at_most(500)])


class NoteForm(FlaskForm):
    text = TextAreaField("备注", [required(), at_most(5000)])


class TagForm(FlaskForm):
    tag = StringField("标签（维度:值）", [required(), at_most(60)])


class ReplyForm(FlaskForm):
    nonce = HiddenField()
    text = TextAreaField("回复内容", [required(), at_most(600)])


class TemplateNoticeForm(FlaskForm):
    nonce = HiddenField()
    kind = HiddenField()
    topic = StringField("主题（20 字以内）", [required(), at_most(20)])
    note = StringField("说明（20 字以内，可不填）", [at_most(20)])


class MergeForm(FlaskForm):
    other_id = IntegerField(
        "要合并进来的客户编号", [InputRequired(message="请填写客户编号（数字）")]
    )
    reason = StringField("原因", [at_most(500)])


class LogForm(FlaskForm):
    node_id = SelectField("节点", coerce=int, validate_choice=False)
    text = TextAreaField("今日施工内容", [required(), at_most(2000)])
    photos = MultipleFileField("照片（最多 9 张）")


class ReportForm(FlaskForm):
    node_id = SelectField("节点", coerce=int, validate_choice=False)
    text = TextAreaField("报告摘要", [at_most(2000)])
    finding = TextAreaField("巡检发现", [required(), at_most(500)])
    hazard = SelectField("隐患等级", choices=options(HAZARD_LEVELS))
    photo = MultipleFileField("现场照片（1 张）")


class NodeForm(FlaskForm):
    status = HiddenField()


class RectifyForm(FlaskForm):
    note = TextAreaField("整改说明", [at_most(1000)])


class ChangeOrderForm(FlaskForm):
    item = StringField("调整项目", [required(), at_most(200)])
    amount = StringField("金额（元，减项写负数）", [required(), at_most(16)])


class StaffForm(FlaskForm):
    name = StringField("姓名", [required(), at_most(50)])
    phone = StringField("手机号", [Optional(), at_most(20)])
    wecom_userid = StringField("企业微信账号", [Optional(), at_most(64)])
    roles = SelectMultipleField("角色", choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    store = SelectField("门店", validate_choice=False)
    password = PasswordField("初始密码", [required()])


class StaffEditForm(FlaskForm):
    roles = SelectMultipleField("角色", choices=options((r, ROLE_LABELS[r]) for r in ROLES))
    store = SelectField("门店", validate_choice=False)
    active = BooleanField("在职")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("新密码", [required()])
    confirm = PasswordField("再次输入", [required()])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class TagRuleForm(FlaskForm):
    dimension = StringField("维度", [required(), at_most(20)])
    value = StringField("值", [required(), at_most(50)])
    words = TextAreaField("关键词（每行一个）", [required()])
    exclusions = TextAreaField("排除词（每行一个，可不填）")


class AutoReplyForm(FlaskForm):
    keyword = StringField("关键词", [required(), at_most(100)])
    match = SelectField("匹配方式", choices=options([("contains", "包含"), ("exact", "完全一致")]))
    reply = TextAreaField("回复内容", [required(), at_most(600)])
    priority = IntegerField(
        "优先级（越小越先）", [Optional(), NumberRange(0, 10000, "0 到 10000")], default=100
    )
    active = BooleanField("启用", default=True)


class NodeTemplateForm(FlaskForm):
    name = StringField("节点名称", [required(), at_most(50)])
    position = IntegerField("顺序", [Optional(), NumberRange(1, 1000, "1 到 1000")])
    duration_days = IntegerField("工期（天）", [Optional(), NumberRange(1, 365, "1 到 365")])
    active = BooleanField("启用", default=True)


class FollowUpForm(FlaskForm):
    method = SelectField("方式", choices=options((m, m) for m in FOLLOWUP_METHODS))
    content = TextAreaField("内容", [required(), at_most(2000)])
    result = StringField("结果", [at_most(500)])
    next_at = DateTimeLocalField("下次跟进时间", [Optional()], format="%Y-%m-%dT%H:%M")


class AssignRuleForm(FlaskForm):
    name = StringField("规则名称", [required(), at_most(100)])
    position = IntegerField("顺序（小的先匹配）", [Optional(), NumberRange(0, 100000)], default=100)
    store_id = SelectField("门店", coerce=int, validate_choice=False)
    city = StringField("城市", [at_most(50)])
    region = StringField("区域", [at_most(50)])
    source = StringField("来源渠道（如 mp、form、mp_qr:展会）", [at_most(100)])
    tags = StringField("标签（维度:值，多个用逗号分隔，须全部满足）", [at_most(300)])
    rep_ids = SelectMultipleField("轮流分配给", coerce=int, validate_choice=False)
    active = BooleanField("启用", default=True)


class SalesRepForm(FlaskForm):
    off = BooleanField("休息（不接新线索）")
    daily_cap = IntegerField("每日上限（空为不限）", [Optional(), NumberRange(0, 10000)])
