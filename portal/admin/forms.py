"""The regional hub's forms. Shape only: whether the provider is still pending is the service's job."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.forms import PortalForm


class ProviderDecisionForm(PortalForm):
    decision = RadioField(
        "Do you approve this registration?", widget=GovRadioInput(),
        choices=[("approve", "Approve: placement officers can see its settings and vacancies at once"),
                 ("reject", "Reject")],
        validators=[InputRequired(message="Select approve or reject")],
    )
    reason = TextAreaField(
        "Reason", widget=GovTextArea(),
        description="Needed to reject. The provider's administrators see it when they sign in.",
        validators=[Length(max=2000)],
    )
    submit = SubmitField("Save decision", widget=GovSubmitInput())

    def validate_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError("Enter the reason for rejecting the registration")
