"""Placement request forms. Forms check shape only (STYLE.md habit 4); the service checks everything else."""

from __future__ import annotations

from datetime import date, timedelta

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import GovDateField, MultiCheckboxField, PortalForm, Postcode
from portal.matching import vocabulary
from portal.models import REQUEST_STATUSES, WITHDRAWAL_REASONS


def _choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return list(table.items())


def _not_before_birth_or_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError("Date of birth must be today or in the past")
    if field.data and field.data < date.today() - timedelta(days=366 * 19):
        raise ValidationError("The child must be under 19: check the year")


# Section forms of the placement request task list (portal/requests/sections.py). Field names are the model's
# column names, so a section saves with one loop. Labels and options follow the Placements Data Standard v2.

NEEDS_COMMUNICATION = {k: vocabulary.NEEDS[k] for k in ("esol", "bsl", "makaton")}
NEEDS_SUPPORT = {k: vocabulary.NEEDS[k] for k in
                 ("additional_supervision", "therapeutic_support", "respite_worker", "school_transport")}
LEGAL_STATUSES = {
    "C2": "C2: full care order",
    "J1": "J1: remanded to local authority accommodation",
    "L1": "L1: under police protection",
    "V2": "V2: single period of accommodation under section 20",
    "E1": "E1: placement order granted",
    "C1": "C1: interim care order",
}


class SaveButtons:
    """Every section has 'Save and continue' (marks it complete) and 'Save as draft' (keeps it in progress)."""

    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class ChildSection(PortalForm, SaveButtons):
    child_reference = StringField(
        "Your local authority's reference for the child", widget=GovTextInput(),
        description="The reference in your case management system. Providers never see it.",
        validators=[InputRequired(message="Enter the child's reference"), Length(max=40)],
    )
    first_name = StringField(
        "First name", widget=GovTextInput(),
        validators=[InputRequired(message="Enter the child's first name"), Length(max=100)],
    )
    last_name = StringField(
        "Last name", widget=GovTextInput(),
        validators=[InputRequired(message="Enter the child's last name"), Length(max=100)],
    )
    date_of_birth = GovDateField(
        "Date of birth", description="For example, 27 3 2012",
        invalid_message="Enter the child's date of birth as a real date, like 27 3 2012",
        validators=[InputRequired(message="Enter the child's date of birth as day, month and year"),
                    _not_before_birth_or_future],
    )
    sex = RadioField(
        "Sex", widget=GovRadioInput(), choices=_choices(vocabulary.SEXES),
        validators=[InputRequired(message="Select the child's sex")],
    )
    gender = StringField("Gender (optional)", widget=GovTextInput(),
                         description="How the child describes their gender, if different from their sex.",
                         validators=[Optional(), Length(max=40)])
    ethnicity = StringField("Ethnicity (optional)", widget=GovTextInput(), validators=[Optional(), Length(max=60)])
    religion = StringField("Religion (optional)", widget=GovTextInput(), validators=[Optional(), Length(max=60)])
    first_language = StringField("First language (optional)", widget=GovTextInput(),
                                 validators=[Optional(), Length(max=60)])
    legal_status = RadioField("Legal status (optional)", widget=GovRadioInput(),
                              choices=[("", "Not known yet")] + _choices(LEGAL_STATUSES), default="",
                              validators=[Optional()])
    not_a_duplicate = BooleanField("This is a different child: save anyway", widget=GovCheckboxInput())


class LocationSection(PortalForm, SaveButtons):
    home_postcode = StringField(
        "Home postcode", widget=GovTextInput(),
        description="Where the child lived before coming into care. Providers see only the postcode sector.",
        validators=[Postcode()],
    )
    school_postcode = StringField("School postcode (optional)", widget=GovTextInput(),
                                  validators=[Postcode(optional=True)])
    keep_school = BooleanField("The child must keep this school", widget=GovCheckboxInput())
    family_postcode = StringField(
        "Family postcode (optional)", widget=GovTextInput(),
        description="Where the family the child sees lives, so placements near them rank higher.",
        validators=[Postcode(optional=True)],
    )
    avoid_las = MultiCheckboxField(
        "Local authorities to avoid (optional)", choices=[],
        description="For example, where the child is at risk of exploitation. Homes there are not offered.",
    )

    def validate_keep_school(self, field):
        if field.data and not (self.school_postcode.data or "").strip():
            raise ValidationError("Enter the school postcode if the child must keep their school")


class TimingSection(PortalForm, SaveButtons):
    urgency = RadioField(
        "When is the placement needed?", widget=GovRadioInput(), choices=_choices(vocabulary.URGENCY),
        validators=[InputRequired(message="Select when the placement is needed")],
    )
    needed_by = GovDateField(
        "Needed by", description="For example, 27 11 2026",
        validators=[InputRequired(message="Enter the date the placement is needed by as day, month and year")],
    )

    def validate_needed_by(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("The needed-by date must be today or in the future")
        if field.data and field.data > date.today() + timedelta(days=366):
            raise ValidationError("The needed-by date must be within the next year")


class SuitabilitySection(PortalForm, SaveButtons):
    suitability_foster = RadioField(
        "Foster care", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY),
        validators=[InputRequired(message="Select how suitable foster care is")],
    )
    suitability_residential = RadioField(
        "Residential care (children's home)", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY),
        validators=[InputRequired(message="Select how suitable residential care is")],
    )
    suitability_supported = RadioField(
        "Supported accommodation (16 and over)", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY),
        validators=[InputRequired(message="Select how suitable supported accommodation is")],
    )

    def validate_suitability_supported(self, field):
        if all(f.data == "unsuitable" for f in (self.suitability_foster, self.suitability_residential, field)):
            raise ValidationError("At least one type of placement must be suitable")


class NeedsSection(PortalForm, SaveButtons):
    communication = MultiCheckboxField("Communication and language", choices=_choices(NEEDS_COMMUNICATION))
    home_adaptation = BooleanField("The home needs adaptations (for example, for a disability)",
                                   widget=GovCheckboxInput())
    support = MultiCheckboxField("Additional support", choices=_choices(NEEDS_SUPPORT))
    additional_support_other = StringField("Other support (optional)", widget=GovTextInput(),
                                           validators=[Optional(), Length(max=400)])
    deprivation_of_liberty = BooleanField("A deprivation of liberty order is in place", widget=GovCheckboxInput())
    cultural_needs = RadioField("Cultural needs (for example, a place of worship)", widget=GovRadioInput(),
                                choices=_choices(vocabulary.CULTURAL_NEEDS), default="not_known",
                                validators=[InputRequired(message="Select the child's cultural needs")])
    living_companions = RadioField("Who can the child be cared for alongside?", widget=GovRadioInput(),
                                   choices=_choices(vocabulary.LIVING_COMPANIONS), default="no_preference",
                                   validators=[InputRequired(message="Select who the child can live with")])
    pets = RadioField("Can the child live with pets?", widget=GovRadioInput(), choices=_choices(vocabulary.PETS),
                      default="unknown", validators=[InputRequired(message="Select whether the child can live with pets")])


class RisksSection(PortalForm, SaveButtons):
    risks_to_child = MultiCheckboxField("Risks to the child", choices=_choices(vocabulary.RISKS_TO_CHILD))
    risk_other = StringField("Other risk to the child (optional)", widget=GovTextInput(),
                             validators=[Optional(), Length(max=400)])
    risks_to_others = MultiCheckboxField("Risks to others or property", choices=_choices(vocabulary.RISKS_TO_OTHERS))
    risk_to_others_other = StringField("Other risk to others (optional)", widget=GovTextInput(),
                                       validators=[Optional(), Length(max=400)])


class BudgetSection(PortalForm, SaveButtons):
    budget_gbp_week = DecimalField(
        "Weekly budget in pounds (optional)", widget=GovTextInput(), places=2,
        validators=[Optional(), NumberRange(min=0, max=100000, message="Enter a weekly budget between £0 and £100,000")],
    )
    notes = TextAreaField(
        "Notes for providers (optional)", widget=GovTextArea(), validators=[Length(max=4000)],
        description="Do not include the child's name or address: providers see these notes before an offer is accepted.",
    )


class SendReferralsForm(PortalForm):
    """Choose which providers receive the anonymised referral."""

    providers = MultiCheckboxField("Providers to send the referral to", choices=[])
    submit = SubmitField("Send referral", widget=GovSubmitInput())


class DecisionForm(PortalForm):
    """Accept an offer (no fields), or decline it with a reason the provider will see."""

    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[Length(max=2000)])
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RequestFilterForm(PortalForm):
    """Filters on the officer's list. Posted, not put in the URL (a search holds a child's name), so it carries
    the CSRF token like every other form."""

    q = StringField("Search by reference or name", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    status = RadioField("Status", widget=GovRadioInput(), choices=[("", "Any")] + _choices(REQUEST_STATUSES),
                        default="", validators=[Optional()])
    urgency = RadioField("Needed", widget=GovRadioInput(), choices=[("", "Any")] + _choices(vocabulary.URGENCY),
                         default="", validators=[Optional()])
    age_min = IntegerField("Youngest age", widget=GovTextInput(),
                           validators=[Optional(), NumberRange(min=0, max=18, message="Enter an age from 0 to 18")])
    age_max = IntegerField("Oldest age", widget=GovTextInput(),
                           validators=[Optional(), NumberRange(min=0, max=18, message="Enter an age from 0 to 18")])
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def validate_age_max(self, field):
        if field.data is not None and self.age_min.data is not None and field.data < self.age_min.data:
            raise ValidationError("The oldest age must be the same as or more than the youngest age")


CONNECTED_PERSON_SOURCES = {
    "family_network": "The child's family network",
    "family_group_conference": "A Family Group Conference",
    "connected_persons_team": "The connected persons team",
}


class ConnectedPersonForm(PortalForm):
    """A relative or friend who could care for the child (s22C(6)(a): family and friends first)."""

    name = StringField("Full name", widget=GovTextInput(),
                       validators=[InputRequired(message="Enter the person's full name"), Length(max=200)])
    relationship_to_child = StringField(
        "Relationship to the child", widget=GovTextInput(), description="For example, aunt, grandparent, family friend",
        validators=[InputRequired(message="Enter their relationship to the child"), Length(max=100)],
    )
    postcode = StringField("Their postcode", widget=GovTextInput(), validators=[Postcode()])
    stage = RadioField(
        "Assessment stage", widget=GovRadioInput(), choices=_choices(vocabulary.CONNECTED_PERSON_STAGES),
        validators=[InputRequired(message="Select the assessment stage")],
        description="Only people with a viability assessment, regulation 24 temporary approval or full approval are offered as placements.",
    )
    capacity = IntegerField("How many children can they care for?", widget=GovTextInput(), default=1,
                            validators=[InputRequired(message="Enter how many children they can care for"),
                                        NumberRange(min=1, max=6, message="Enter a number from 1 to 6")])
    source = RadioField("Where did this person come from?", widget=GovRadioInput(),
                        choices=_choices(CONNECTED_PERSON_SOURCES),
                        validators=[InputRequired(message="Select where this person came from")])
    submit = SubmitField("Add connected person", widget=GovSubmitInput())


class SiblingForm(PortalForm):
    """Link this request with a brother's or sister's request in the same local authority."""

    child_reference = StringField(
        "Your reference for the brother or sister", widget=GovTextInput(),
        description="Their placement request must already exist in your local authority.",
        validators=[InputRequired(message="Enter the brother or sister's reference"), Length(max=40)],
    )
    together = BooleanField("They must be placed together, in the same home", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Link brother or sister", widget=GovSubmitInput())


class SplitSiblingGroupForm(PortalForm):
    """The plan allows the brothers and sisters to live apart: match them one by one, for a recorded reason."""

    reason = TextAreaField(
        "Why can they be placed apart?", widget=GovTextArea(),
        description="For example, the care plan or a together-or-apart assessment. This is kept on each child's "
                    "record; providers are told only that the children will be referred on their own.",
        validators=[InputRequired(message="Enter why the children can be placed apart"),
                    Length(max=1000, message="The reason must be 1000 characters or fewer")],
    )
    submit = SubmitField("Match them one by one", widget=GovSubmitInput())


class WithdrawForm(PortalForm):
    """Withdraw a request the child no longer needs, with the reason: providers are told its category only."""

    reason = RadioField(
        "Why is the request being withdrawn?", widget=GovRadioInput(), choices=_choices(WITHDRAWAL_REASONS),
        validators=[InputRequired(message="Select why the request is being withdrawn")],
    )
    reason_other = TextAreaField(
        "If it is another reason, what is it?", widget=GovTextArea(),
        description="Only your local authority sees this. Providers are told it was for another reason.",
        validators=[Length(max=500, message="The reason must be 500 characters or fewer")],
    )
    submit = SubmitField("Withdraw the request", widget=GovSubmitInput())

    def validate_reason_other(self, field):
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("Enter why the request is being withdrawn")


RE_ENTRY_ACTIONS = {"confirm": "This is the same child", "dismiss": "Not the same child", "undo": "Undo"}


class ReEntryDecisionForm(PortalForm):
    """One earlier placement on the "Earlier placements" page: the same child (confirm), not (dismiss), or take
    the decision back (undo). Each candidate has its own small form; the button sends the action."""

    placement_id = HiddenField(validators=[InputRequired(message="Choose an earlier placement"),
                                           Length(max=32, message="Choose an earlier placement")])
    action = RadioField("Decision", choices=list(RE_ENTRY_ACTIONS.items()),
                        validators=[InputRequired(message="Choose whether this is the same child")])
