"""The placement request task list: sections, which are required, and how each maps to the request's columns.

The officer saves the request section by section (GOV.UK task list pattern); nothing typed is lost and the
request can stay a draft until every required section is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from wtforms import BooleanField, DateField, DecimalField, RadioField

from portal import geo
from portal.formatting import format_date, format_gbp
from portal.forms import MultiCheckboxField
from portal.requests import forms
from portal.models import PlacementRequest


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    form: type
    required: bool
    hint: str


SECTIONS: tuple[Section, ...] = (
    Section("child", "About the child", forms.ChildSection, True, "Reference, name, date of birth, sex, identity"),
    Section("location", "Home, school and family", forms.LocationSection, True,
            "Postcodes, keeping the school, places to avoid"),
    Section("timing", "When the placement is needed", forms.TimingSection, True, "Urgency and the needed-by date"),
    Section("suitability", "Type of placement", forms.SuitabilitySection, True,
            "Foster care, children's home, supported accommodation"),
    Section("needs", "Needs", forms.NeedsSection, False, "Communication, adaptations, support, culture, pets"),
    Section("risks", "Risks", forms.RisksSection, False, "Risks to the child and to others"),
    Section("budget", "Budget and notes", forms.BudgetSection, False, "Weekly budget, notes for providers"),
)
SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}
# What a change of circumstances names: a task-list section, or the child's family pages.
CHANGE_TITLES = {**{section.key: section.title for section in SECTIONS},
                 "connected_persons": "Connected persons", "siblings": "Brothers and sisters"}

COMMUNICATION = set(forms.NEEDS_COMMUNICATION)
SUPPORT = set(forms.NEEDS_SUPPORT)


def status(req: PlacementRequest, section: Section) -> str:
    """'completed', 'in_progress' (something saved, not marked complete) or 'not_started', for the task list."""
    if section.key in (req.completed_sections or ()):
        return "completed"
    values = form_data(req, section).values()
    if any(value not in (None, "", [], False, "not_known", "no_preference", "unknown", "suitable") for value in values):
        return "in_progress"
    return "not_started"


def completed(req: PlacementRequest) -> list[Section]:
    """The sections the officer has marked complete (required or optional), in task-list order."""
    done = set(req.completed_sections or ())
    return [section for section in SECTIONS if section.key in done]


def missing_required(req: PlacementRequest) -> list[Section]:
    """Required sections not yet completed: the request cannot be submitted for matching until this is empty."""
    done = set(req.completed_sections or ())
    return [section for section in SECTIONS if section.required and section.key not in done]


def form_data(req: PlacementRequest, section: Section) -> dict:
    """The section's current values, to prefill its form."""
    if section.key == "needs":
        needs = set(req.needs or ())
        return {
            "communication": sorted(needs & COMMUNICATION),
            "home_adaptation": "home_adaptation" in needs,
            "support": sorted(needs & SUPPORT),
            "additional_support_other": req.additional_support_other,
            "deprivation_of_liberty": "deprivation_of_liberty" in needs,
            "cultural_needs": req.cultural_needs,
            "living_companions": req.living_companions,
            "pets": req.pets,
        }
    if section.key == "risks":
        from portal.matching.vocabulary import RISKS_TO_CHILD, RISKS_TO_OTHERS

        risks = set(req.risks or ())
        return {
            "risks_to_child": sorted(risks & set(RISKS_TO_CHILD)),
            "risk_other": req.risk_other,
            "risks_to_others": sorted(risks & set(RISKS_TO_OTHERS)),
            "risk_to_others_other": req.risk_to_others_other,
        }
    data = {}
    for name in _field_names(section):
        if hasattr(req, name):
            value = getattr(req, name)
            data[name] = "" if value is None and name == "legal_status" else value
    return data


def _field_names(section: Section) -> list[str]:
    return [name for name, value in vars(section.form).items() if hasattr(value, "field_class")]


def values_from_form(section: Section, form) -> dict:
    """Turn a validated section form into the request's column values (the service applies them)."""
    if section.key == "location":
        return {
            "home": form.home_postcode.lookup,
            "school": form.school_postcode.lookup,
            "family": form.family_postcode.lookup,
            "keep_school": bool(form.keep_school.data),
            "avoid_las": sorted(form.avoid_las.data or ()),
        }
    if section.key == "needs":
        needs = set(form.communication.data or ()) | set(form.support.data or ())
        if form.home_adaptation.data:
            needs.add("home_adaptation")
        if form.deprivation_of_liberty.data:
            needs.add("deprivation_of_liberty")
        return {
            "needs": sorted(needs),
            "additional_support_other": form.additional_support_other.data or "",
            "cultural_needs": form.cultural_needs.data,
            "living_companions": form.living_companions.data,
            "pets": form.pets.data,
        }
    if section.key == "risks":
        return {
            "risks": sorted(set(form.risks_to_child.data or ()) | set(form.risks_to_others.data or ())),
            "risk_other": form.risk_other.data or "",
            "risk_to_others_other": form.risk_to_others_other.data or "",
        }
    return {name: getattr(form, name).data for name in _field_names(section) if name != "not_a_duplicate"}


def build_form(section: Section, req: PlacementRequest | None = None, formdata=None):
    """The section's form: prefilled from the request when it is opened (no form data), else as posted."""
    if formdata is None and req is not None:
        form = section.form(formdata=None, data=form_data(req, section))
    else:
        form = section.form()
    if section.key == "location":
        form.avoid_las.choices = [(la.code, la.name) for la in geo.WM_LOCAL_AUTHORITIES]
    return form


@dataclass(frozen=True)
class Answers:
    """One section as "Check your answers" shows it: its status and each question with the answer given."""

    section: Section
    status: str
    rows: tuple[tuple[str, str], ...]


def answers(req: PlacementRequest) -> list[Answers]:
    """Every section's questions (the labels of its form) and the answers saved, in words, for the GOV.UK "Check
    your answers" pattern: the same forms the officer filled in, so the page cannot drift from them."""
    out = []
    for section in SECTIONS:
        form = build_form(section, req)
        rows = tuple((field.label.text, _answer(field)) for field in form
                     if field.name not in ("csrf_token", "form_key", "submit", "not_a_duplicate"))
        out.append(Answers(section, status(req, section), rows))
    return out


def _answer(field) -> str:
    data = field.data
    if isinstance(field, MultiCheckboxField):
        chosen = dict(field.choices)
        return ", ".join(chosen.get(value, value) for value in data or ()) or "None"
    if isinstance(field, RadioField):
        return dict(field.choices).get(data or "", data) or "Not given"
    if isinstance(field, BooleanField):
        return "Yes" if data else "No"
    if isinstance(field, DateField):
        return format_date(data) or "Not given"
    if isinstance(field, DecimalField):
        return format_gbp(data) if data is not None else "Not given"
    return str(data) if data not in (None, "") else "Not given"
