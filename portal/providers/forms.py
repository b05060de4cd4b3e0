"""Provider forms: registration, people, settings, vacancies, offers and answers to referrals.

Forms check shape only (STYLE.md habit 4): types, ranges, required answers, fields that depend on each other.
Whether a setting or vacancy is the provider's own, whether an email is taken, and whether a vacancy is still
open are the services' job.
"""

from __future__ import annotations

import re
from datetime import date

from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from portal import geo
from portal.auth.forms import new_password_fields
from portal.forms import GovDateField, MultiCheckboxField, PortalForm, Postcode
from portal.matching import vocabulary
from portal.providers.csv_format import MAX_FEE_GBP, MAX_PLACES, URN_MESSAGE, URN_RE, normalise_urn
from portal.models import PROVIDER_KINDS

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.org.uk"


def _choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return list(table.items())


def split_list(text: str | None) -> list[str]:
    """'Urdu, Punjabi;  urdu' -> ['Urdu', 'Punjabi']: commas, semicolons or new lines; duplicates dropped."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,;\n]", text or ""):
        value = " ".join(part.split())
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())


# ---------------------------------------------------------------------------------------------- field types

class OptionalDate:
    """Optional for a day/month/year date: stops only when every part is blank (a half-typed date is an error)."""

    field_flags = {"optional": True}

    def __call__(self, form, field):
        if not any((v or "").strip() for v in field.raw_data or ()):
            field.errors[:] = []
            raise StopValidation()


class PoundsField(DecimalField):
    """Pounds with pence; '£1,250.00' is read as 1250.00."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, places=2, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [(valuelist[0] or "").replace("£", "").replace(",", "").strip()]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"{self.label.text} must be a number, like 850 or 850.50") from None


class WholeNumberField(IntegerField):
    widget = GovTextInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([(v or "").strip() for v in valuelist])
        except ValueError:
            raise ValueError(f"{self.label.text} must be a whole number, like 2") from None


def _urn_list(form, field):
    urns = [normalise_urn(u) for u in split_list(field.data)]
    bad = [u for u in urns if not URN_RE.fullmatch(u)]
    if bad:
        raise ValidationError(f"{bad[0]} is not an Ofsted URN. {URN_MESSAGE}")
    field.urns = urns


# ------------------------------------------------------------------------------------------ registration

PROVIDER_CODE_CHOICES = [
    ("PR1", "Run by a local authority (SSDA903 code PR1)"),
    ("PR3", "Other public provision, for example the NHS (PR3)"),
    ("PR4", "Private provision (PR4)"),
    ("PR5", "Voluntary or third sector provision (PR5)"),
]
LA_CHOICES = [("", "Not run by a local authority")] + [(la.code, la.name) for la in geo.WM_LOCAL_AUTHORITIES]


class ProviderContactMixin:
    contact_name = StringField(
        "Your full name", widget=GovTextInput(),
        validators=[InputRequired(message="Enter your full name"), Length(max=120)],
    )
    contact_email = EmailField(
        "Your work email address", widget=GovTextInput(),
        description="You sign in with this. Placement officers and the regional hub use it to contact you.",
        validators=[InputRequired(message="Enter your work email address"), Regexp(EMAIL_RE, message=EMAIL_MESSAGE),
                    Length(max=254)],
    )
    contact_phone = StringField(
        "Phone number", widget=GovTextInput(), description="For urgent placements. For example, 0121 496 0000.",
        validators=[InputRequired(message="Enter a phone number"),
                    Regexp(r"^[0-9+() \-]{10,20}$", message="Enter a phone number, like 0121 496 0000"),
                    Length(max=40)],
    )


class RegistrationForm(ProviderContactMixin, PortalForm):
    """A provider registers; an administrator approves it before officers can see anything of it."""

    name = StringField(
        "Organisation name", widget=GovTextInput(),
        validators=[InputRequired(message="Enter your organisation's name"), Length(max=200)],
    )
    kind = RadioField(
        "What kind of organisation is it?", widget=GovRadioInput(), choices=_choices(PROVIDER_KINDS),
        validators=[InputRequired(message="Select what kind of organisation it is")],
    )
    provider_code = RadioField(
        "Who runs it?", widget=GovRadioInput(), choices=PROVIDER_CODE_CHOICES,
        description="The SSDA903 placement provider code local authorities report for children placed with you.",
        validators=[InputRequired(message="Select who runs the organisation")],
    )
    la_code = SelectField(
        "Which local authority runs it?", widget=GovSelect(), choices=LA_CHOICES,
        description="Only if it is run by a local authority.",
    )
    contract = RadioField(
        "How do local authorities buy placements from you?", widget=GovRadioInput(),
        choices=[("framework", "Through the West Midlands framework"), ("spot", "Spot purchase only")],
        validators=[InputRequired(message="Select how local authorities buy placements from you")],
    )
    ofsted_urns = TextAreaField(
        "Ofsted URNs of your settings (optional)", widget=GovTextArea(),
        description="One per line, or separated by commas. For example, SC123456. The regional hub checks them "
                    "before approving your registration.",
        validators=[Length(max=4000), _urn_list],
    )
    password, password_confirm = new_password_fields(user_fields=("contact_email", "contact_name"))
    submit = SubmitField("Register", widget=GovSubmitInput())

    def validate_la_code(self, field):
        if self.provider_code.data == "PR1" and not field.data:
            raise ValidationError("Select the local authority that runs it")
        if self.provider_code.data and self.provider_code.data != "PR1" and field.data:
            raise ValidationError("Choose 'Not run by a local authority', or say it is run by a local authority")

    def validate_provider_code(self, field):
        if self.kind.data == "la_fostering" and field.data != "PR1":
            raise ValidationError("A local authority fostering service is run by a local authority (PR1)")


class ProfileForm(ProviderContactMixin, PortalForm):
    """The organisation's contact details, kept by its administrators."""

    contract = RadioField(
        "How do local authorities buy placements from you?", widget=GovRadioInput(),
        choices=[("framework", "Through the West Midlands framework"), ("spot", "Spot purchase only")],
        validators=[InputRequired(message="Select how local authorities buy placements from you")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class InviteForm(PortalForm):
    name = StringField(
        "Full name", widget=GovTextInput(), validators=[InputRequired(message="Enter their full name"), Length(max=120)],
    )
    email = EmailField(
        "Work email address", widget=GovTextInput(),
        validators=[InputRequired(message="Enter their work email address"), Regexp(EMAIL_RE, message=EMAIL_MESSAGE),
                    Length(max=254)],
    )
    provider_role = RadioField(
        "What can they do?", widget=GovRadioInput(),
        choices=[
            ("staff", "Staff: read referrals, settings and vacancies"),
            ("manager", "Manager: also answer referrals, make offers, keep settings and vacancies, sign agreements"),
            ("admin", "Administrator: also manage your organisation's users and profile"),
        ],
        validators=[InputRequired(message="Select what they can do")],
    )
    submit = SubmitField("Create account and get link", widget=GovSubmitInput())


class SetPasswordForm(PortalForm):
    password, password_confirm = new_password_fields()
    submit = SubmitField("Set password", widget=GovSubmitInput())


# ---------------------------------------------------------------------------------------------- settings

YES_NO = [("yes", "Yes"), ("no", "No")]


class SettingForm(PortalForm):
    """A children's home, supported accommodation service or fostering household, as matching reads it."""

    name = StringField(
        "Name", widget=GovTextInput(),
        description="What you call it. Placement officers see it. For a fostering household, do not use the "
                    "carers' full names: for example, 'Willow household'.",
        validators=[InputRequired(message="Enter a name for the setting"), Length(max=200)],
    )
    kind = RadioField(
        "Type of setting", widget=GovRadioInput(), choices=_choices(vocabulary.SETTING_TYPES),
        validators=[InputRequired(message="Select the type of setting")],
    )
    postcode = StringField(
        "Postcode", widget=GovTextInput(),
        description="Used to work out distances and the local authority it is in. Officers and referrals show "
                    "only the postcode sector.",
        validators=[Postcode()],
    )
    ofsted_urn = StringField(
        "Ofsted URN (optional)", widget=GovTextInput(),
        description="For example, SC123456. Fostering households are registered through the agency: leave blank.",
        validators=[Optional(), Length(max=12)],
    )
    ofsted_rating = RadioField(
        "Latest Ofsted overall effectiveness grade", widget=GovRadioInput(),
        choices=[*_choices(vocabulary.OFSTED_RATINGS), ("none", "Not yet inspected, or not graded")],
        validators=[InputRequired(message="Select the latest Ofsted grade, or 'Not yet inspected'")],
    )
    inspected_on = GovDateField(
        "Date of that inspection", description="For example, 14 3 2025. Needed when you give a grade.",
        validators=[OptionalDate()],
    )
    registered_places = WholeNumberField(
        "Registered places",
        description="How many children it is registered or approved for, in total.",
        validators=[InputRequired(message="Enter the number of registered places"),
                    NumberRange(min=1, max=MAX_PLACES, message=f"Registered places must be between 1 and {MAX_PLACES}")],
    )
    age_min = WholeNumberField(
        "Youngest age taken", validators=[InputRequired(message="Enter the youngest age taken"),
                                          NumberRange(min=0, max=18, message="Youngest age must be between 0 and 18")],
    )
    age_max = WholeNumberField(
        "Oldest age taken", validators=[InputRequired(message="Enter the oldest age taken"),
                                        NumberRange(min=0, max=18, message="Oldest age must be between 0 and 18")],
    )
    sexes = MultiCheckboxField("Takes", choices=_choices(vocabulary.SEXES))
    needs_met = MultiCheckboxField("Needs it can meet", choices=_choices(vocabulary.NEEDS))
    risks_managed = MultiCheckboxField("Risks it can manage", choices=_choices(vocabulary.RISKS))
    languages = StringField(
        "Languages spoken (optional)", widget=GovTextInput(),
        description="Separate them with commas. For example, English, Urdu, Polish.", validators=[Length(max=500)],
    )
    religions = StringField(
        "Religions and cultures supported (optional)", widget=GovTextInput(),
        description="Separate them with commas. For example, Muslim, Sikh.", validators=[Length(max=500)],
    )
    has_pets = BooleanField("There are pets in the home", widget=GovCheckboxInput())
    takes_siblings = BooleanField("It can take brothers and sisters together", widget=GovCheckboxInput())
    solo_only = BooleanField("It only takes one child at a time (solo placement)", widget=GovCheckboxInput())
    fee_gbp_week = PoundsField(
        "Standard weekly fee",
        description="New vacancies start with this fee; you can change it on each vacancy.",
        validators=[InputRequired(message="Enter the standard weekly fee, like 850"),
                    NumberRange(min=0, max=MAX_FEE_GBP, message="Enter a weekly fee between £0 and £100,000")],
    )
    submit = SubmitField("Save setting", widget=GovSubmitInput())

    def validate_ofsted_urn(self, field):
        field.data = normalise_urn(field.data or "") or None
        if field.data and not URN_RE.fullmatch(field.data):
            raise ValidationError(URN_MESSAGE)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Here, not in validate_inspected_on: an empty optional date stops that field's own validators.
        if self.ofsted_rating.data not in (None, "", "none") and self.inspected_on.data is None \
                and not self.inspected_on.errors:
            self.inspected_on.errors = ["Enter the date of the inspection that gave this grade"]
            valid = False
        return valid

    def validate_inspected_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError("The inspection date must be today or in the past")

    def validate_age_max(self, field):
        if self.age_min.data is not None and field.data is not None and field.data < self.age_min.data:
            raise ValidationError("Oldest age must be the same as or more than the youngest age")

    def validate_age_min(self, field):
        # Supported accommodation is for 16 and 17 year olds only (Supported Accommodation Regulations 2023).
        if self.kind.data == "supported" and field.data is not None and field.data < 16:
            raise ValidationError("Supported accommodation takes young people aged 16 or over: enter 16 or more")

    def validate_sexes(self, field):
        if not field.data:
            raise ValidationError("Select at least one: female or male")

    def validate_solo_only(self, field):
        if field.data and self.takes_siblings.data:
            raise ValidationError("A setting that only takes one child cannot take brothers and sisters together. "
                                  "Untick one of them")


# -------------------------------------------------------------------------------------------- vacancies

VACANCY_EDIT_STATUSES = {"open": "Open: placement officers can see it", "held": "Held: hidden from placement officers"}


class VacancyForm(PortalForm):
    setting_id = SelectField(
        "Setting", widget=GovSelect(), choices=[], validate_choice=False,
        validators=[InputRequired(message="Select the setting with the vacancy")],
    )
    places = WholeNumberField(
        "Places free", validators=[InputRequired(message="Enter how many places are free"),
                                   NumberRange(min=1, max=MAX_PLACES, message=f"Places must be between 1 and {MAX_PLACES}")],
    )
    available_from = GovDateField(
        "Available from", description="For example, 1 12 2026.",
        validators=[InputRequired(message="Enter the date the places are available from")],
    )
    available_to = GovDateField(
        "Available until (optional)", description="Leave blank if there is no end date.", validators=[OptionalDate()],
    )
    fee_gbp_week = PoundsField(
        "Weekly fee", validators=[InputRequired(message="Enter the weekly fee, like 850"),
                                  NumberRange(min=0, max=MAX_FEE_GBP, message="Enter a weekly fee between £0 and £100,000")],
    )
    status = RadioField(
        "Status", widget=GovRadioInput(), choices=_choices(VACANCY_EDIT_STATUSES), default="open",
        validators=[InputRequired(message="Select the status")],
    )
    submit = SubmitField("Save vacancy", widget=GovSubmitInput())

    def validate_available_to(self, field):
        if field.data and self.available_from.data and field.data < self.available_from.data:
            raise ValidationError("The end date must be the same as or after the available-from date")


class ConfirmForm(PortalForm):
    """A button that changes something (confirm, withdraw, remove, sign): CSRF only."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class UploadForm(PortalForm):
    file = FileField(
        "Upload a CSV file", widget=GovFileInput(),
        description="Saved as 'CSV UTF-8' from Excel or any spreadsheet, up to 1,000 rows.",
        validators=[FileRequired(message="Select a CSV file")],
    )
    submit = SubmitField("Upload and save", widget=GovSubmitInput())


# ------------------------------------------------------------------------------------- referrals, offers

class OfferForm(PortalForm):
    """Make an offer in a minute: a vacancy, the weekly fee and start date (prefilled), and a message."""

    vacancy_id = RadioField(
        "Which vacancy are you offering?", widget=GovRadioInput(), choices=[],
        validators=[InputRequired(message="Select the vacancy you are offering")],
    )
    # Both follow the vacancy chosen unless the provider types others (issue 11 §6): left empty, the service uses
    # the vacancy's own fee and date; in a browser, choosing a vacancy fills them in (portal.js).
    fee_gbp_week = PoundsField(
        "Weekly fee in pounds",
        validators=[Optional(),
                    NumberRange(min=0, max=MAX_FEE_GBP, message="Enter a weekly fee between £0 and £100,000")],
    )
    start_date = GovDateField("Earliest start date", validators=[OptionalDate()])
    # The vacancy whose fee and date the form was prefilled with: a fee or date left as prefilled follows the
    # vacancy actually chosen, so choosing another vacancy without JavaScript does not offer the first one's fee.
    prefilled_from = HiddenField()
    message = TextAreaField(
        "Message to the placement officer (optional)", widget=GovTextArea(), validators=[Length(max=4000)]
    )
    submit = SubmitField("Make offer", widget=GovSubmitInput())

    def validate_start_date(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("The start date must be today or in the future")


class DeclineReferralForm(PortalForm):
    """Why the provider cannot offer a place: one of the fixed reasons commissioners count (issue 13 §4), with the
    provider's own words for "another reason". The service checks the same (the API calls it too)."""

    reason = RadioField(
        "Why can you not offer a place?", widget=GovRadioInput(), choices=_choices(vocabulary.DECLINE_REASONS),
        description="The placement officer sees the reason. Commissioners count the reasons, never the referral.",
        validate_choice=False,
        validators=[InputRequired(message="Select why you cannot offer a place"),
                    AnyOf(list(vocabulary.DECLINE_REASONS), message="Select why you cannot offer a place")],
    )
    reason_other = TextAreaField(
        "If it is another reason, what is it?", widget=GovTextArea(),
        description="The placement officer sees this. Do not include the child's details.",
        validators=[Length(max=vocabulary.DECLINE_REASON_OTHER_MAX,
                           message=f"The reason must be {vocabulary.DECLINE_REASON_OTHER_MAX} characters or fewer")],
    )
    submit = SubmitField("Send answer", widget=GovSubmitInput())

    def validate_reason_other(self, field):
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("Enter why you cannot offer a place")


class InboxFilterForm(PortalForm):
    """Filters on the referral inbox (a GET form: no CSRF). The choices that depend on the provider (its settings)
    are set by the view; `check` refuses a value that is not one of the choices, at its field."""

    class Meta:
        csrf = False

    setting = SelectField("Setting", widget=GovSelect(), choices=[], validate_choice=False)
    urgency = SelectField(
        "Needed", widget=GovSelect(), choices=[("", "Any time"), *_choices(vocabulary.URGENCY)], validate_choice=False,
    )
    status = SelectField("Status", widget=GovSelect(), choices=[], validate_choice=False)
    age_band = SelectField("Age", widget=GovSelect(), choices=[("", "Any age"), *_choices(vocabulary.AGE_BANDS)],
                           validate_choice=False)
    need = SelectField("Need or risk", widget=GovSelect(),
                       choices=[("", "Any"), *_choices({**vocabulary.NEEDS, **vocabulary.RISKS})],
                       validate_choice=False)

    MESSAGES = {"setting": "Choose one of your settings", "urgency": "Choose when the child is needed",
                "status": "Choose a status from the list", "age_band": "Choose an age band from the list",
                "need": "Choose a need or risk from the list"}

    def check(self) -> dict[str, str | None]:
        """Each filter's value (None: not filtering), after putting an error at each field whose value is not one
        of its choices (a stale or edited link, or another provider's setting: the same answer for both)."""
        values: dict[str, str | None] = {}
        for name, message in self.MESSAGES.items():
            field = self[name]
            value = field.data or None
            if value is not None and value not in {key for key, _label in field.choices}:
                field.errors = [message]
                value = None
            values[name] = value
        return values

    submit = SubmitField("Filter", widget=GovSubmitInput())
