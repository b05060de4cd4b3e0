from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import DecimalField, RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from portal.forms import GovDateField


class OfferForm(FlaskForm):
    """Make an offer in a minute: a vacancy, the weekly fee and start date (prefilled), and a message."""

    vacancy_id = RadioField(
        "Which vacancy are you offering?", widget=GovRadioInput(), choices=[],
        validators=[InputRequired(message="Select the vacancy you are offering")],
    )
    fee_gbp_week = DecimalField(
        "Weekly fee in pounds", widget=GovTextInput(), places=2,
        validators=[InputRequired(message="Enter the weekly fee, like 850"),
                    NumberRange(min=0, max=100000, message="Enter a weekly fee between £0 and £100,000")],
    )
    start_date = GovDateField(
        "Earliest start date", validators=[InputRequired(message="Enter the start date as day, month and year")],
    )
    message = TextAreaField(
        "Message to the placement officer (optional)", widget=GovTextArea(), validators=[Length(max=4000)]
    )
    submit = SubmitField("Make offer", widget=GovSubmitInput())

    def validate_start_date(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("The start date must be today or in the future")
