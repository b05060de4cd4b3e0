"""The web forms check what the API is sent (issue 14 §3: the same validation as the web forms).

A section's JSON is turned into the form data its web form would have been posted, the form validates it, and
its values go to the same services. A form's error names its field as a dotted path into the body
(`child.date_of_birth`)."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from portal import geo
from portal.forms import GovDateField
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


def validate_section(key: str, values: dict) -> tuple[dict | None, list[dict], object]:
    """(the section's values for the service, [] ) or (None, the errors, the form)."""
    section = sections.SECTIONS_BY_KEY[key]
    form = section.form(formdata=_formdata(section.form, values), meta={"csrf": False})
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
