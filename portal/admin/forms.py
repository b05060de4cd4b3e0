"""The regional hub's forms. Shape only: whether the provider is still pending is the service's job; what an
audit filter matches is the query's."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.forms import GovDateField, PortalForm


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


AUDIT_OUTCOMES = {"allowed": "Allowed", "refused": "Refused"}


class AuditSearchForm(PortalForm):
    """The regional administrator's search of the audit trail (issue 15 §8). A GET form: it changes nothing, so
    no CSRF token; what a filter means is the query's job (portal/admin/queries.py)."""

    class Meta:
        csrf = False

    user = StringField("User", widget=GovTextInput(), description="Part of their email address or name",
                       validators=[Optional(), Length(max=254, message="Enter at most 254 characters")])
    record_type = StringField("Record type", widget=GovTextInput(), description="For example, placement_request",
                              validators=[Optional(), Length(max=40, message="Enter at most 40 characters")])
    record_id = StringField("Record id", widget=GovTextInput(),
                            validators=[Optional(), Length(max=64, message="Enter at most 64 characters")])
    organisation = SelectField("Organisation", widget=GovSelect(), choices=[],
                               validators=[Optional()])
    action = StringField("Action", widget=GovTextInput(), description="For example, view_request or export_audit",
                         validators=[Optional(), Length(max=40, message="Enter at most 40 characters")])
    outcome = SelectField("Outcome", widget=GovSelect(), choices=[("", "Any outcome"), *AUDIT_OUTCOMES.items()],
                          validators=[Optional()])
    # No Optional(): it looks only at the first box. All three blank is no date; a half-typed one is an error.
    date_from = GovDateField("From", description="For example, 1 12 2026",
                             invalid_message="Enter the 'from' date as a real date, like 1 12 2026")
    date_to = GovDateField("To", description="For example, 31 12 2026",
                           invalid_message="Enter the 'to' date as a real date, like 31 12 2026")
    submit = SubmitField("Search", widget=GovSubmitInput())

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")
