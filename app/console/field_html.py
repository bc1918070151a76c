"""Form fields' HTML as WTForms' own widgets write it, at a fraction of their CPU.

WTForms writes every attribute through markupsafe's `Markup.format`, a pure-Python string
formatter: 70-90 µs a field, 5-6 ms of the customer page's 30-odd fields and options. Here
the widgets the console uses (text, hidden, number and date inputs, text areas, plain
selects) write the same attributes in the same order, escaped the same way, with
f-strings; any other widget (passwords, checkboxes, files, grouped choices, a datalist) is
left to WTForms. tests/console/test_field_html.py holds the output to WTForms' own, field
by field, for every console form.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms.meta import DefaultMeta
from wtforms.widgets import core as widgets

_INPUTS = (
    widgets.TextInput,
    widgets.HiddenInput,
    widgets.NumberInput,
    widgets.DateTimeLocalInput,
    widgets.DateInput,
    widgets.EmailInput,
    widgets.TelInput,
)


def attributes(kwargs: dict) -> str:
    """wtforms.widgets.html_params(**kwargs), the same text: sorted by key, True as a bare
    attribute, False left out, values escaped (a double quote in Markup as &quot;)."""
    parts = []
    for key, value in sorted(kwargs.items()):
        key = widgets.clean_key(key)
        if value is True:
            parts.append(key)
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")
            parts.append(f'{escape(key)}="{text}"')
    return " ".join(parts)


def _flags(widget, field, kwargs: dict, call: bool) -> None:
    """The validation flags the widget shows (required, maxlength…), as WTForms adds them."""
    flags = getattr(field, "flags", {})
    for key in dir(flags):
        if key in widget.validation_attrs and key not in kwargs:
            value = getattr(flags, key)
            kwargs[key] = value() if call and callable(value) else value


def _input(widget, field, kwargs: dict) -> Markup | None:
    if getattr(field, "_datalist", None) is not None:
        return None
    kwargs.setdefault("id", field.id)
    kwargs.setdefault("type", widget.input_type)
    if "value" not in kwargs:
        kwargs["value"] = field._value()
    _flags(widget, field, kwargs, call=True)
    return Markup(f"<input {attributes(dict(name=field.name, **kwargs))}>")


def _textarea(widget, field, kwargs: dict) -> Markup:
    kwargs.setdefault("id", field.id)
    _flags(widget, field, kwargs, call=False)
    inner = escape(field._value())
    return Markup(f"<textarea {attributes(dict(name=field.name, **kwargs))}>\r\n{inner}</textarea>")


def _select(widget, field, kwargs: dict) -> Markup | None:
    if field.has_groups():
        return None
    kwargs.setdefault("id", field.id)
    if widget.multiple:
        kwargs["multiple"] = True
    _flags(widget, field, kwargs, call=False)
    html = [f"<select {attributes(dict(name=field.name, **kwargs))}>"]
    for choice in field._iter_choices_normalized():
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {})}
        if choice.selected:
            options["selected"] = True
        html.append(
            f"<option {attributes(options)}>{escape(choice.label or choice.value)}</option>"
        )
    html.append("</select>")
    return Markup("".join(html))


def fast_html(field, kwargs: dict) -> Markup | None:
    """The field's HTML, or None when its widget is one WTForms should write itself."""
    widget = field.widget
    kind = type(widget)
    if kind in _INPUTS:
        return _input(widget, field, kwargs)
    if kind is widgets.TextArea:
        return _textarea(widget, field, kwargs)
    if kind is widgets.Select:
        return _select(widget, field, kwargs)
    return None


class FastMeta(DefaultMeta):
    """A form Meta whose fields render through fast_html (WTForms' render_field otherwise)."""

    def render_field(self, field, render_kw):
        kwargs = {widgets.clean_key(k): v for k, v in render_kw.items()}
        other = getattr(field, "render_kw", None)
        if other is not None:
            kwargs = dict({widgets.clean_key(k): v for k, v in other.items()}, **kwargs)
        html = fast_html(field, kwargs)
        return html if html is not None else field.widget(field, **kwargs)
