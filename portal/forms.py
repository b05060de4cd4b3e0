"""Form pieces shared by every feature: the base form every form uses (it refuses control characters), GOV.UK
widgets, postcode validation, multi-choice checkboxes, and the guard on addresses and query strings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, abort, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovDateInput
from wtforms import DateField, HiddenField, SelectMultipleField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from portal import geo

# ------------------------------------------------------------------------------------ control characters

# Bad input never reaches the database or the log (issue 15 §7): NUL (which PostgreSQL refuses in text, so it
# used to be a 500), the other C0 controls, DEL, the C1 controls and lone surrogates (which cannot be encoded as
# UTF-8) are refused in every field. Tab, line feed and carriage return are text in a multi-line text area only.
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a character no field of the portal accepts (tab and new lines only when
    `multiline`)."""
    return bool((_CONTROL_MULTI_LINE if multiline else _CONTROL_SINGLE_LINE).search(text))


def control_characters_message(label: str) -> str:
    """The field's error, naming it by its label as the page shows it (without "(optional)")."""
    return "Remove the control characters from " + re.sub(r"\s*\(optional\)$", "", label.strip())


def _typed_control_characters(field) -> bool:
    """Whether what was sent for `field` holds control characters (uploaded files are checked by their readers)."""
    if isinstance(field, CSRFTokenField):
        return False
    multiline = isinstance(field, TextAreaField)
    return any(isinstance(value, str) and has_control_characters(value, multiline=multiline)
               for value in (field.raw_data or ()))


def _refuse_control_characters(form, field) -> None:
    """First in every field's validators: its own validators never see a control character."""
    if _typed_control_characters(field):
        raise StopValidation(control_characters_message(field.label.text))


class PortalForm(FlaskForm):
    """The base of every form of the portal (tests/test_architecture.py checks it): a field whose input holds
    control characters fails with "Remove the control characters from <label>" as its only error, so the view
    answers 422 with what was typed kept, and nothing with a control character is saved or looked up."""

    # A new one-time key each time the form is drawn; sent back with it (portal.idempotency: a double click or a
    # retry saves once). Templates draw it next to the CSRF token.
    form_key = HiddenField(default=lambda: _new_form_key())

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            field.validators = [_refuse_control_characters, *field.validators]
            return field

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if _typed_control_characters(field):
                # The only error: a "not a real date" or "not a valid choice" from before would only confuse.
                field.errors = [control_characters_message(field.label.text)]
                valid = False
        return valid


def _new_form_key() -> str:
    from portal.idempotency import new_key

    return new_key()


def validates_query_string(view: Callable) -> Callable:
    """Marks a view whose GET form validates its own query string (control characters are a field error there,
    422); every other view with a control character in its query string is refused by `init_app`'s guard."""
    view.validates_query_string = True
    return view


def _query_has_control_characters(items: Iterable[tuple[str, Any]]) -> bool:
    return any(has_control_characters(key) or (isinstance(value, str) and has_control_characters(value))
               for key, value in items)


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_control_characters_in_address():
        # An id with a control character cannot exist (ids are hex): the same 404 as any unknown address, before
        # it can reach a query (PostgreSQL refuses NUL in text).
        if has_control_characters(request.path):
            abort(404)
        view = app.view_functions.get(request.endpoint or "")
        if not getattr(view, "validates_query_string", False) \
                and _query_has_control_characters(request.args.items(multi=True)):
            abort(400)


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes rendered with the GOV.UK pattern; an empty selection is allowed."""

    widget = GovCheckboxesInput()

    def pre_validate(self, form):
        valid = {value for value, _label in self.choices}
        for value in self.data or ():
            if value not in valid:
                raise ValidationError(f"'{value}' is not one of the choices")


class Postcode:
    """Validates a UK postcode against the ONS data and stores its lookup on the field (`field.lookup`).

    A malformed or unknown postcode is a form error, never a crash (issue 2, item 5).
    """

    def __init__(self, optional: bool = False):
        self.optional = optional

    def __call__(self, form, field):
        field.lookup = None
        raw = (field.data or "").strip()
        if not raw:
            if self.optional:
                return
            raise ValidationError("Enter a postcode")
        try:
            field.lookup = geo.lookup(raw)
        except geo.PostcodeError as error:
            raise ValidationError(str(error)) from None
        field.data = field.lookup.postcode


class GovDateField(DateField):
    """A day / month / year date (GOV.UK date input) whose 'not a date' error says what to do.

    Copes with whatever a browser (or anything else) sends: all three boxes blank is "not answered" (the field's
    required message), a missing or extra box is "not a real date", and the widget always gets three values back
    so what was typed is shown again.
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, invalid_message: str | None = None, **kwargs):
        kwargs.setdefault("format", "%d %m %Y")
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message or f"{self.label.text} must be a real date, like 27 3 2026"

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if self.raw_data is not None and len(self.raw_data) != 3:
            self.raw_data = (list(self.raw_data) + ["", "", ""])[:3]

    def process_formdata(self, valuelist):
        parts = [(value or "").strip() for value in valuelist]
        if not any(parts):
            self.data = None
            return
        if len(parts) != 3:
            self.data = None
            raise ValueError(self.invalid_message)
        try:
            super().process_formdata(parts)
        except ValueError:
            self.data = None
            raise ValueError(self.invalid_message) from None

