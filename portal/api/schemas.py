"""The integration API's bodies, as marshmallow schemas: they document the API (its OpenAPI document is generated
from them and the views) and check the shape of what comes in. The vocabulary is the matching core's, the same
lists the web forms offer; the web forms themselves then check the values (portal.api.forms)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from portal import geo
from portal.matching import vocabulary
from portal.models import API_SCOPES, REQUEST_STATUSES

LEGAL_STATUSES = ("", "C2", "J1", "L1", "V2", "E1", "C1")
NEEDS_COMMUNICATION = ("esol", "bsl", "makaton")
NEEDS_SUPPORT = ("additional_supervision", "therapeutic_support", "respite_worker", "school_transport")


def _one_of(values) -> validate.OneOf:
    return validate.OneOf(list(values))


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


# ------------------------------------------------------------------- a placement request, section by section

class ChildSection(Strict):
    child_reference = _text(40, required=True)
    first_name = _text(100, required=True)
    last_name = _text(100, required=True)
    date_of_birth = fields.Date(required=True)
    sex = fields.String(required=True, validate=_one_of(vocabulary.SEXES))
    gender = _text(40, allow_none=True)
    ethnicity = _text(60, allow_none=True)
    religion = _text(60, allow_none=True)
    first_language = _text(60, allow_none=True)
    legal_status = fields.String(allow_none=True, validate=_one_of(LEGAL_STATUSES))
    not_a_duplicate = fields.Boolean(load_only=True, metadata={
        "description": "Save although an open request of the LA may be the same child (a 409 lists none of them)"})


class LocationSection(Strict):
    home_postcode = _text(10, required=True)
    school_postcode = _text(10, allow_none=True)
    keep_school = fields.Boolean()
    family_postcode = _text(10, allow_none=True)
    avoid_las = fields.List(fields.String(validate=_one_of(la.code for la in geo.WM_LOCAL_AUTHORITIES)))


class TimingSection(Strict):
    urgency = fields.String(required=True, validate=_one_of(vocabulary.URGENCY))
    needed_by = fields.Date(required=True)


class SuitabilitySection(Strict):
    suitability_foster = fields.String(required=True, validate=_one_of(vocabulary.SUITABILITY))
    suitability_residential = fields.String(required=True, validate=_one_of(vocabulary.SUITABILITY))
    suitability_supported = fields.String(required=True, validate=_one_of(vocabulary.SUITABILITY))


class NeedsSection(Strict):
    communication = fields.List(fields.String(validate=_one_of(NEEDS_COMMUNICATION)))
    home_adaptation = fields.Boolean()
    support = fields.List(fields.String(validate=_one_of(NEEDS_SUPPORT)))
    additional_support_other = _text(400, allow_none=True)
    deprivation_of_liberty = fields.Boolean()
    cultural_needs = fields.String(validate=_one_of(vocabulary.CULTURAL_NEEDS))
    living_companions = fields.String(validate=_one_of(vocabulary.LIVING_COMPANIONS))
    pets = fields.String(validate=_one_of(vocabulary.PETS))


class RisksSection(Strict):
    risks_to_child = fields.List(fields.String(validate=_one_of(vocabulary.RISKS_TO_CHILD)))
    risk_other = _text(400, allow_none=True)
    risks_to_others = fields.List(fields.String(validate=_one_of(vocabulary.RISKS_TO_OTHERS)))
    risk_to_others_other = _text(400, allow_none=True)


class BudgetSection(Strict):
    budget_gbp_week = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))
    notes = _text(4000, allow_none=True)


SECTION_SCHEMAS = {"child": ChildSection, "location": LocationSection, "timing": TimingSection,
                   "suitability": SuitabilitySection, "needs": NeedsSection, "risks": RisksSection,
                   "budget": BudgetSection}


class PlacementRequestUpdate(Strict):
    """Sections to save (each one given is saved complete, as "Save and continue" does); `submit` then submits a
    complete draft for matching."""

    child = fields.Nested(ChildSection)
    location = fields.Nested(LocationSection)
    timing = fields.Nested(TimingSection)
    suitability = fields.Nested(SuitabilitySection)
    needs = fields.Nested(NeedsSection)
    risks = fields.Nested(RisksSection)
    budget = fields.Nested(BudgetSection)
    submit = fields.Boolean(load_default=False)


class PlacementRequestCreate(PlacementRequestUpdate):
    child = fields.Nested(ChildSection, required=True)


def _out(schema: type[Schema]) -> type[Schema]:
    """A section as the API answers it: every field present, null where nothing is saved yet."""
    import copy

    declared = {}
    for name, field in schema._declared_fields.items():
        if field.load_only:
            continue
        field = copy.copy(field)
        field.required, field.allow_none, field.validators = False, True, []
        if isinstance(field, fields.List):
            field.inner = copy.copy(field.inner)
            field.inner.validators = []
        declared[name] = field
    return Schema.from_dict(declared, name=schema.__name__.removesuffix("Section") + "Answers")


class PlacementRequestOut(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, validate=_one_of(REQUEST_STATUSES))
    la_code = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    completed_sections = fields.List(fields.String(), required=True)
    child = fields.Nested(_out(ChildSection))
    location = fields.Nested(_out(LocationSection))
    timing = fields.Nested(_out(TimingSection))
    suitability = fields.Nested(_out(SuitabilitySection))
    needs = fields.Nested(_out(NeedsSection))
    risks = fields.Nested(_out(RisksSection))
    budget = fields.Nested(_out(BudgetSection))


class PlacementRequestSummary(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    child_reference = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    needed_by = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)


# -------------------------------------------------------------------------------------------------- lists

class PageArgs(Strict):
    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "From `next_cursor`"})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "next_cursor": fields.String(allow_none=True, required=True)}, name=name)


class ScorePart(Schema):
    criterion = fields.String(required=True)
    points = fields.Integer(required=True)
    reason = fields.String(required=True)


class MatchOut(Schema):
    rank = fields.Integer(required=True)
    option_id = fields.String(required=True)
    kind = fields.String(required=True)
    provider_id = fields.String(allow_none=True)
    provider_name = fields.String(required=True)
    setting_id = fields.String(allow_none=True)
    setting_name = fields.String(required=True)
    score = fields.Integer(required=True)
    distance_miles = fields.Float(required=True)
    flags = fields.List(fields.String(), required=True)
    fee_gbp_week = fields.Float(allow_none=True)
    reasons = fields.List(fields.Nested(ScorePart), required=True)


class ReferralOut(Schema):
    id = fields.String(required=True)
    request_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    provider_name = fields.String(required=True)
    status = fields.String(required=True)
    sent_at = fields.DateTime(required=True)
    declined_reason = fields.String(allow_none=True)


class OfferOut(Schema):
    id = fields.String(required=True)
    referral_id = fields.String(required=True)
    request_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    vacancy_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "The decision: offered, shortlisted, accepted, "
                                                                   "declined, withdrawn..."})
    fee_gbp_week = fields.Float(required=True)
    start_date = fields.Date(required=True)
    decline_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class PlacementOut(Schema):
    id = fields.String(required=True)
    request_id = fields.String(required=True)
    offer_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    setting_id = fields.String(allow_none=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    placement_type = fields.String(required=True)
    provider_code = fields.String(required=True)
    distance_miles = fields.Float(required=True)
    inside_la = fields.Boolean(required=True)
    weekly_cost_gbp = fields.Float(allow_none=True)


class AnonymisedReferral(Schema):
    """A referral as the provider sees it before its offer is accepted: age, postcode sector, needs; no names."""

    id = fields.String(required=True)
    status = fields.String(required=True)
    sent_at = fields.DateTime(required=True)
    request_open = fields.Boolean(required=True)
    age_when_needed = fields.Integer(allow_none=True)
    sex = fields.String(allow_none=True)
    postcode_sector = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    needed_by = fields.Date(allow_none=True)
    needs = fields.List(fields.String(), required=True)
    risks = fields.List(fields.String(), required=True)
    pets = fields.String(allow_none=True)
    living_companions = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    as_shown = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                           metadata={"description": "The referral in words, as the provider's page shows it"})


class OfferCreate(Strict):
    vacancy_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    fee_gbp_week = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))
    start_date = fields.Date(allow_none=True)
    message = _text(2000, allow_none=True)


class VacancyRowIn(Strict):
    vacancy_id = fields.String(allow_none=True, metadata={"description": "Blank to add a vacancy"})
    setting_id = fields.String(allow_none=True)
    ofsted_urn = fields.String(allow_none=True)
    places = fields.Integer(required=True)
    available_from = fields.String(required=True, metadata={"description": "2026-12-01"})
    available_to = fields.String(allow_none=True)
    fee_gbp_week = fields.String(required=True, metadata={"description": "Pounds, like 850 or 850.50"})
    status = fields.String(load_default="open", validate=_one_of(("open", "held", "withdrawn")))


class VacanciesUpsert(Strict):
    vacancies = fields.List(fields.Nested(VacancyRowIn), required=True, validate=validate.Length(min=1, max=1000))


class VacanciesResult(Schema):
    added = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    withdrawn = fields.Integer(required=True)


class FieldError(Schema):
    field = fields.String(allow_none=True)
    detail = fields.String(required=True)


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    field = fields.String(metadata={"description": "The field at fault, as a dotted path into the body"})
    errors = fields.List(fields.Nested(FieldError))
    reference = fields.String()


SCOPE_NAMES = tuple(API_SCOPES)
