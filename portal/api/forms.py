"""The web forms check what the API is sent (issue 14 §3: the same validation as the web forms).

A section's JSON is turned into the form data its web form would have been posted, the form validates it, and
its values go to the same services. A form's error names its field as a dotted path into the body
(`child.date_of_birth`)."""

from __future__ import annotations

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange

from portal import geo
from portal.forms import GovDateField, MultiCheckboxField, PortalForm
from portal.models import API_SCOPES, LA_SCOPES, PROVIDER_SCOPES
from portal.requests import sections


def _formdata(form_class, values: dict) -> MultiDict:
    data = MultiDict()
    for name, value in values.items():
        field = getattr(form_class, name, None)
        if value is None or field is None:
            continue
        if isinstance(value, bool):
            if value:
                data.add(name, "y")
        elif isinstance(value, date):
            for part in (value.day, value.month, value.year):
                data.add(name, str(part))
        elif isinstance(value, list):
            for item in value:
                data.add(name, str(item))
        else:
            data.add(name, str(value))
    # A date field not sent is three blank boxes (the form's own "enter the date" message).
    for name, field in vars(form_class).items():
        if getattr(field, "field_class", None) is GovDateField and name not in data:
            for _ in range(3):
                data.add(name, "")
    return data


def _answers(section, req, sent: dict) -> dict:
    """What the section's form is posted: its defaults, then what the request has saved, then what was sent (a
    field left out keeps its saved value, as on the web where the form is prefilled)."""
    from portal.api.schemas import SECTION_SCHEMAS

    names = set(SECTION_SCHEMAS[section.key]._declared_fields)
    blank = section.form(formdata=None, meta={"csrf": False})
    answers = {field.name: field.data for field in blank if field.name in names and field.data not in (None, "")}
    if req is not None:
        answers.update({name: value for name, value in sections.form_data(req, section).items()
                        if name in names and value is not None})
    answers.update(sent)
    return answers


def validate_section(key: str, values: dict, req=None) -> tuple[dict | None, list[dict], object]:
    """(the section's values for the service, [], the form) or (None, the errors, the form)."""
    section = sections.SECTIONS_BY_KEY[key]
    form = section.form(formdata=_formdata(section.form, _answers(section, req, values)), meta={"csrf": False})
    if key == "location":
        form.avoid_las.choices = [(la.code, la.name) for la in geo.WM_LOCAL_AUTHORITIES]
    if not form.validate():
        errors = [{"field": f"{key}.{name}", "detail": message}
                  for name, messages in form.errors.items() for message in _flat(messages)]
        return None, errors, form
    return sections.values_from_form(section, form), [], form


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    return [str(m) for m in messages]


# ------------------------------------------------------------------------------ the token management pages


class TokenForm(PortalForm):
    name = StringField("Name", widget=GovTextInput(), description="The system that will use it, such as 'Mosaic'",
                       validators=[InputRequired(message="Enter a name for the token"), Length(max=100)])
    scopes = MultiCheckboxField("Scopes", choices=[],
                                validators=[InputRequired(message="Choose at least one scope")])
    days = IntegerField("Expires in (days)", widget=GovTextInput(), default=90,
                        validators=[InputRequired(message="Enter the number of days until the token expires"),
                                    NumberRange(min=1, max=366, message="Enter a number of days from 1 to 366")])
    submit = SubmitField("Create token", widget=GovSubmitInput())


class LaTokenForm(TokenForm):
    la_code = SelectField("Local authority", widget=GovSelect(), choices=[],
                          validators=[InputRequired(message="Select the local authority")])


def la_token_form(**kwargs) -> LaTokenForm:
    form = LaTokenForm(**kwargs)
    form.la_code.choices = [("", "Choose")] + [(la.code, la.name) for la in geo.WM_LOCAL_AUTHORITIES]
    form.scopes.choices = [(s, f"{s}: {API_SCOPES[s]}") for s in LA_SCOPES]
    return form


def provider_token_form(**kwargs) -> TokenForm:
    form = TokenForm(**kwargs)
    form.scopes.choices = [(s, f"{s}: {API_SCOPES[s]}") for s in PROVIDER_SCOPES]
    return form


