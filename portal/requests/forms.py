"""Placement request forms. Forms check shape only (STYLE.md habit 4); the service checks everything else."""

from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, DecimalField, IntegerField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import GovDateField, MultiCheckboxField, Postcode
from portal.matching import vocabulary
from portal.requests.models import REQUEST_STATUSES


def _choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return list(table.items())


def _not_before_birth_or_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError("Date of birth must be today or in the past")
    if field.data and field.data < date.today() - timedelta(days=366 * 19):
        raise ValidationError("The child must be under 19: check the year")


class PlacementRequestForm(FlaskForm):
    """The short placement request: who, where, when, what kind of home, needs and risks, budget."""

    child_reference = StringField(
        "Your local authority's reference for the child",
        widget=GovTextInput(),
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
    home_postcode = StringField(
        "Home postcode", widget=GovTextInput(),
        description="Where the child lived before coming into care. Providers see only the postcode sector.",
        validators=[Postcode()],
    )
    school_postcode = StringField(
        "School postcode (optional)", widget=GovTextInput(), validators=[Postcode(optional=True)],
    )
    keep_school = BooleanField("The child must keep their school", widget=GovCheckboxInput())
    urgency = RadioField(
        "When is the placement needed?", widget=GovRadioInput(), choices=_choices(vocabulary.URGENCY),
        validators=[InputRequired(message="Select when the placement is needed")],
    )
    needed_by = GovDateField(
        "Needed by", validators=[InputRequired(message="Enter the date the placement is needed by as day, month and year")],
    )
    suitability_foster = RadioField(
        "Foster care", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY), default="suitable",
        validators=[InputRequired(message="Select how suitable foster care is")],
    )
    suitability_residential = RadioField(
        "Residential care (children's home)", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY),
        default="suitable", validators=[InputRequired(message="Select how suitable residential care is")],
    )
    suitability_supported = RadioField(
        "Supported accommodation (16 and over)", widget=GovRadioInput(), choices=_choices(vocabulary.SUITABILITY),
        default="unsuitable", validators=[InputRequired(message="Select how suitable supported accommodation is")],
    )
    needs = MultiCheckboxField("Needs the home must meet", choices=_choices(vocabulary.NEEDS))
    risks = MultiCheckboxField("Risks present", choices=_choices(vocabulary.RISKS))
    budget_gbp_week = DecimalField(
        "Weekly budget in pounds (optional)", widget=GovTextInput(), places=2,
        validators=[Optional(), NumberRange(min=0, max=100000, message="Enter a weekly budget between £0 and £100,000")],
    )
    notes = TextAreaField("Notes for providers (optional)", widget=GovTextArea(), validators=[Length(max=4000)],
                          description="Do not include the child's name or address: providers see these notes before an offer is accepted.")
    submit = SubmitField("Submit and see matches", widget=GovSubmitInput())

    def validate_needed_by(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("The needed-by date must be today or in the future")


class SendReferralsForm(FlaskForm):
    """Choose which providers receive the anonymised referral."""

    providers = MultiCheckboxField("Providers to send the referral to", choices=[])
    submit = SubmitField("Send referral", widget=GovSubmitInput())


class DecisionForm(FlaskForm):
    """Accept an offer (no fields), or decline it with a reason the provider will see."""

    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[Length(max=2000)])
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RequestFilterForm(FlaskForm):
    """Filters on the officer's list (GET; no CSRF needed for reading)."""

    class Meta:
        csrf = False

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
