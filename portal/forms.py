"""Form pieces shared by every feature: GOV.UK widgets, postcode validation, multi-choice checkboxes."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovDateInput
from wtforms import DateField, SelectMultipleField
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

from portal import geo


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
