"""The console's fields are written by app/console/field_html.py instead of WTForms'
widgets (for speed): a page must get the same HTML, byte for byte, whatever was typed
(quotes, angle brackets, ampersands), with the attributes the templates add (placeholder,
aria-invalid, type), for every field of every console form."""

from __future__ import annotations

import inspect

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.meta import DefaultMeta

from app.console import forms
from app.console.field_html import FastMeta, attributes, fast_html

TRICKY = "a\"b<c>&'d 张"
FORMS = [
    cls
    for _, cls in inspect.getmembers(forms, inspect.isclass)
    if issubclass(cls, forms.Form) and cls.__module__ == forms.__name__
]
EXTRAS = [
    {},
    {"placeholder": ""},
    {"placeholder": TRICKY, "aria-invalid": "true", "type": "tel"},
    {"class_": "wide", "data_x": Markup('q"<b>'), "disabled": True, "readonly": False},
]


def _filled(form_class):
    """The form as a POST with tricky text in every field, and choices with it too."""
    data = MultiDict(dict.fromkeys((f.name for f in form_class(formdata=None)), TRICKY))
    form = form_class(formdata=data)
    for field in form:
        if hasattr(field, "choices") and not field.choices:
            field.choices = forms.options([(1, TRICKY), (2, "二")])
        field.errors = ["错误"]
    return form


def _wtforms_html(field, extra: dict) -> str:
    return str(DefaultMeta().render_field(field, dict(extra)))


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_every_field_as_wtforms_writes_it(app, form_class):
    with app.test_request_context("/console/customers/1", method="POST"):
        for form in (form_class(formdata=None), _filled(form_class)):
            for field in form:
                for extra in EXTRAS:
                    assert str(field(**extra)) == _wtforms_html(field, extra), (field.name, extra)


def test_the_fast_path_is_taken_and_escapes():
    from wtforms import Form, SelectField, StringField, TextAreaField

    class Sample(Form):
        text = StringField(default=TRICKY)
        area = TextAreaField(default="</textarea><script>")
        pick = SelectField(choices=forms.options([("x", "<b>")]), default="x")

    form = Sample()
    html = "".join(str(fast_html(field, {})) for field in form)
    assert "<script>" not in html and "<b>" not in html
    assert 'value="a&#34;b&lt;c&gt;&amp;&#39;d 张"' in html
    assert isinstance(forms.NoteForm.Meta(), FastMeta)
    assert attributes({"checked": True, "hidden": False, "id": "x"}) == 'checked id="x"'
