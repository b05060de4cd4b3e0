"""Placement forms. Forms check shape only (STYLE.md habit 4); dates against the placement, the stage of a
connected person and whether an agreement can still be signed are the service's job."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import BooleanField, DecimalField, RadioField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import GovDateField, PortalForm
from portal.matching import vocabulary


def _end_reason_choices() -> list[tuple[str, str]]:
    """A return home first (reunification: what Family Valued works towards), then the other 903 reasons."""
    first = sorted(vocabulary.RETURN_HOME_REASONS, key=lambda code: code != "E4A")  # E4A: home to parents
    rest = [code for code in vocabulary.PLACEMENT_END_REASONS if code not in vocabulary.RETURN_HOME_REASONS]
    return [
        (code, f"{'Return home: ' if code in vocabulary.RETURN_HOME_REASONS else ''}"
               f"{vocabulary.PLACEMENT_END_REASONS[code]} ({code})")
        for code in first + rest
    ]


class SignAgreementForm(PortalForm):
    """The signature: the signer's full name, typed, as it is on their account."""

    full_name = StringField(
        "Your full name",
        description="Type your full name as it is on your portal account. This is your signature: the portal "
                    "records it with the date and time.",
        widget=GovTextInput(),
        filters=[lambda value: " ".join(value.split()) if value else value],
        validators=[DataRequired(message="Type your full name to sign the agreement"), Length(max=120)],
    )
    submit = SubmitField("Sign the agreement", widget=GovSubmitInput())


class GenerateAgreementForm(PortalForm):
    """No fields: a POST button, so no agreement row is ever created by a GET."""

    submit = SubmitField("Generate the placement agreement", widget=GovSubmitInput())


class EndPlacementForm(PortalForm):
    """When and why a placement ended (SSDA903 reason for placement change)."""

    end_date = GovDateField(
        "When did the placement end?",
        description="For example, 27 3 2026. It cannot be in the future or before the placement started.",
        invalid_message="Enter the date the placement ended as a real date, like 27 3 2026",
        validators=[InputRequired(message="Enter the date the placement ended as day, month and year")],
    )
    end_reason = RadioField(
        "Why did the placement end?",
        description="The reason for the change, as in the SSDA903 return. Choose a return home (E4A or E13) "
                    "when the child goes back to live with their family.",
        widget=GovRadioInput(),
        choices=_end_reason_choices(),
        validate_choice=False,
        validators=[InputRequired(message="Select why the placement ended"),
                    AnyOf(list(vocabulary.PLACEMENT_END_REASONS), message="Select why the placement ended")],
    )
    submit = SubmitField("End the placement", widget=GovSubmitInput())


class ConnectedPlacementForm(PortalForm):
    """Place the child with a connected person (family and friends)."""

    start_date = GovDateField(
        "When does the child start living with them?",
        description="For example, 27 3 2026. If the child already lives with them, the day they moved in.",
        invalid_message="Enter the start date as a real date, like 27 3 2026",
        validators=[InputRequired(message="Enter the start date as day, month and year")],
    )
    long_term = BooleanField(
        "This is a long-term foster placement",
        description="Recorded as SSDA903 placement type U1 instead of U3.",
        widget=GovCheckboxInput(),
    )
    weekly_allowance_gbp = DecimalField(
        "Weekly fostering allowance in pounds (optional)",
        widget=GovTextInput(),
        places=2,
        validators=[Optional(),
                    NumberRange(min=0, max=100000, message="Enter a weekly allowance between £0 and £100,000")],
    )
    deprivation_of_liberty = BooleanField(
        "A deprivation of liberty order authorises the restrictions in this placement",
        description="Ticked when the request records the need. Commissioners count these placements.",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Record the placement", widget=GovSubmitInput())


class PlacementFlagsForm(PortalForm):
    """Correct the two facts commissioners count on a placement record (issue 13 §4)."""

    deprivation_of_liberty = BooleanField(
        "A deprivation of liberty order authorises the restrictions in this placement",
        widget=GovCheckboxInput(),
    )
    unregistered_setting = BooleanField(
        "The setting is not registered with Ofsted although it must be (a children's home or supported "
        "accommodation)",
        description="Worked out from the setting when the placement was recorded: no Ofsted URN in the portal.",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save the flags", widget=GovSubmitInput())
