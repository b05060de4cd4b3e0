"""Sign-in, security code, recovery code and password forms, and the new-password fields every feature uses."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from portal.auth.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from portal.forms import PortalForm

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SignInForm(PortalForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Regexp(EMAIL_RE, message="Enter an email address in the correct format, like name@example.org.uk"), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=MAX_LENGTH, message=f"Password must be {MAX_LENGTH} characters or fewer")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ForgotPasswordForm(PortalForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Regexp(EMAIL_RE, message="Enter an email address in the correct format, like name@example.org.uk"), Length(max=254)],
    )
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class SecurityCodeForm(PortalForm):
    """The GOV.UK "enter a security code" pattern: one field, digits, spaces allowed."""

    code = StringField(
        "Security code",
        widget=GovTextInput(),
        description="The 6-digit code your authenticator app shows for the West Midlands placement portal.",
        validators=[InputRequired(message="Enter the security code"),
                    Regexp(r"^\s*(\d\s*){6}$", message="The security code must be 6 digits")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(PortalForm):
    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        description="One of the 10 recovery codes you saved when you set up your authenticator app, like "
                    "ABCD-EFGH-JKLM-NPQR. Each code works once.",
        validators=[InputRequired(message="Enter a recovery code"),
                    Regexp(r"^[A-Za-z2-7\s-]{16,40}$", message="Enter the recovery code as it was shown, like "
                                                             "ABCD-EFGH-JKLM-NPQR")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PasswordPolicy:
    """The password policy (portal.auth.passwords) as a field validator. The person's own name and email address
    count as easy guesses: `user_fields` names the form's fields that hold them, and a view may set
    `form.password_context` to the ones it knows."""

    def __init__(self, user_fields: tuple[str, ...] = ()):
        self.user_fields = user_fields

    def __call__(self, form, field):
        inputs = [*getattr(form, "password_context", ())]
        inputs += [str(form[name].data or "") for name in self.user_fields if name in form]
        problem = password_problem(field.data or "", user_inputs=tuple(i for i in inputs if i))
        if problem:
            raise ValidationError(problem)


def new_password_fields(*, user_fields: tuple[str, ...] = (), label: str = "Create a password"):
    """A new password typed twice (registering, an invite or reset link, changing it). Called in the class body so
    the fields keep their place in the page's order, and so in the error summary."""
    password = PasswordField(
        label, widget=GovPasswordInput(),
        description=f"At least {MIN_LENGTH} characters. Any characters, including spaces: three or four random "
                    "words make a strong password that is easy to remember. Common passwords are not allowed.",
        validators=[InputRequired(message=label), PasswordPolicy(user_fields)],
    )
    password_confirm = PasswordField(
        "Confirm your password", widget=GovPasswordInput(),
        validators=[InputRequired(message="Confirm your password"),
                    EqualTo("password", message="The passwords do not match")],
    )
    return password, password_confirm


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password"), Length(max=MAX_LENGTH)],
    )
    password, password_confirm = new_password_fields(label="New password")
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ResetPasswordForm(PortalForm):
    password, password_confirm = new_password_fields(label="New password")
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ConfirmForm(PortalForm):
    """A button that changes something: only its CSRF token."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class ReauthenticateForm(PortalForm):
    """The password again, before a change to how one signs in."""

    password = PasswordField(
        "Your password", widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=MAX_LENGTH)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


EMAIL_CHOICES = [("immediately", "Email me each time"), ("digest", "In one email a day"), ("off", "Do not email me")]


def email_choices_form(kinds: list[tuple[str, str]], data: dict[str, str] | None = None) -> PortalForm:
    """How the person gets each kind of email they may choose about (issue 17 §2): one question per kind."""

    class EmailChoicesForm(PortalForm):
        submit = SubmitField("Save", widget=GovSubmitInput())

    for name, label in kinds:
        setattr(EmailChoicesForm, name, RadioField(
            label, widget=GovRadioInput(), choices=EMAIL_CHOICES,
            validators=[InputRequired(message=f"Select how you get emails about this: {label.lower()}")]))
    return EmailChoicesForm(data=data)
