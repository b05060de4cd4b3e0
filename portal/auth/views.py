"""Signing in (password, then the security code), signing out, each role's landing page, and one's own account.

Every request first finds its server-side session (`_load_session`): a browser counts as signed in only when its
cookie names a live session whose MFA step has passed (portal.auth.sessions). Pages past sign-in are therefore
unreachable until the security code is accepted, and a copied cookie dies with its session.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.auth import devices, mfa, services, sessions, throttle
from portal.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    email_choices_form,
    ForgotPasswordForm,
    ReauthenticateForm,
    RecoveryCodeForm,
    ResetPasswordForm,
    SecurityCodeForm,
    SignInForm,
)
from portal.auth.navigation import nav_items
from portal.auth.passwords import verify_password
from portal.auth.permissions import audit, audit_now, role_required
from portal.auth.queries import find_user_by_email
from portal.db import utcnow
from portal.errors import Forbidden, NotFound
from portal.extensions import login_manager
from portal.models import ROLES, User, UserSession
from portal.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)
bp.app_context_processor(lambda: {"nav_items": nav_items, "unread_notifications": _unread_notifications})


def _unread_notifications() -> int | None:
    """The header's unread count (issue 17 §2), read only when a signed-in page's header is drawn."""
    from portal.notifications.queries import header_unread_count

    return header_unread_count(current_user) if current_user.is_authenticated else None


HOME_FOR_ROLE = {
    "officer": "requests.index",
    "provider": "providers.home",
    "commissioner": "market.home",
    "admin": "admin.home",
}
EVERYONE = tuple(ROLES)
# One message for every refused sign-in: a wrong password, an unknown account and a locked one look the same.
SIGN_IN_REFUSED = ("Enter a correct email address and password. After 10 wrong attempts you must wait 15 minutes "
                   "before you can sign in")
CODE_REFUSED = "The security code is not correct or has expired. Enter the latest code from your authenticator app"
RECOVERY_REFUSED = "This recovery code is not correct or has already been used"
# Requests a page makes by itself, which do not count as activity for the idle timeout.
BACKGROUND_ENDPOINTS = {"requests.matches_fragment", "auth.session_status"}
# Wrong codes allowed in one pending sign-in before it ends and the password is asked for again.
MAX_CODE_FAILURES = 5
SIGNED_OUT_REASONS = {
    sessions.IDLE: "You have been signed out because you had not used the portal for 30 minutes.",
    sessions.ABSOLUTE: "You have been signed out because you signed in more than 12 hours ago.",
    sessions.MFA_TIMEOUT: "You took too long to enter your security code, so you need to sign in again.",
    sessions.ENDED: "You have been signed out because your session was ended: you signed out, or signed out of "
                    "every device, or your password or security code was changed, or an administrator ended it.",
}


# ------------------------------------------------------------------------------------- the request's user

@bp.before_app_request
def _load_session() -> None:
    """Find this browser's session record; end it if it has expired; touch it at most once a minute."""
    g.portal_session = None
    g.portal_user = None
    g.signed_out = None
    if request.endpoint == "static" or _without_session() or "sid" not in session:
        return
    record = sessions.current_record()
    reason = sessions.ENDED if record is None else sessions.expiry_reason(record)
    if reason == sessions.ENDED and record is not None and record.end_reason in sessions.TIMEOUTS:
        reason = record.end_reason  # timed out a moment ago (another tab noticed first): say so, not "ended"
    if reason is None and not record.user.active:
        reason = sessions.ENDED
    if reason is not None:
        if record is not None and record.ended_at is None:
            with unit_of_work():
                sessions.end(record, reason)
        sessions.forget_cookie()
        g.signed_out = reason
        return
    g.portal_session = record
    if record.mfa_at is not None:
        g.portal_user = record.user
        # A page's own background requests (the live match list's poll, the timeout warning's check) are not
        # the person using the portal: they never keep a session alive.
        if request.endpoint not in BACKGROUND_ENDPOINTS and sessions.needs_touch(record):
            with unit_of_work():
                record.last_seen_at = utcnow()


def _without_session() -> bool:
    """Views marked `without_session` (the health checks, portal.health) never read or touch a session record:
    a load balancer's check every few seconds must cost no query and keep no one signed in."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "without_session", False))


@login_manager.request_loader
def _user_for_request(_request):
    return g.get("portal_user")


@login_manager.user_loader
def _no_cookie_users(_user_id: str):
    return None  # signed-in users come only from their server-side session (above)


@login_manager.unauthorized_handler
def _unauthorized():
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if g.get("signed_out"):
        return redirect(url_for("auth.signed_out", reason=g.signed_out, next=target))
    if _pending() is not None:
        return redirect(url_for("auth.security_code"))
    flash("Sign in to continue.", "info")
    return redirect(url_for("auth.sign_in", next=target))


def _pending() -> UserSession | None:
    record = g.get("portal_session")
    return record if record is not None and record.mfa_at is None else None


def _safe_next(target: str | None) -> str | None:
    """Only follow local redirects after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _home(user: User) -> str:
    return url_for(HOME_FOR_ROLE[user.role])


# ------------------------------------------------------------------------------------------------ sign in

@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(_home(current_user))
    return render_template("auth/index.html")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or _home(current_user))
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        key, address = throttle.account_key(email), sessions.client_address()
        user = find_user_by_email(email)
        account = user if user is not None and user.active else None
        with unit_of_work():
            # Checked in every case, against a dummy hash for an unknown account, so every answer takes as long.
            # (A correct password also upgrades an outdated hash, saved here.)
            password_ok = verify_password(account, form.password.data)
            locked = throttle.is_locked(key, address)
            refused = locked or not password_ok
            if refused:
                throttle.record(key, address, throttle.LOCKED if locked else throttle.PASSWORD, False)
                audit(None, "sign_in", "user", user.id if user is not None else None, outcome="refused",
                      detail="locked" if locked else "password")
            else:
                throttle.record(key, address, throttle.PASSWORD, True)
                sessions.start(account)
                audit(account, "sign_in_password", "user", account.id)
        if refused:
            form.password.errors.append(SIGN_IN_REFUSED)
            return render_template("auth/sign_in.html", form=form), 422
        session["next"] = _safe_next(request.args.get("next"))
        return redirect(url_for("auth.security_code" if account.mfa_secret else "auth.set_up_mfa"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/sign_in.html", form=form), status


def _no_pending_sign_in():
    if current_user.is_authenticated:
        return redirect(_home(current_user))
    if g.get("signed_out"):
        return redirect(url_for("auth.signed_out", reason=g.signed_out))
    flash("Sign in to continue.", "info")
    return redirect(url_for("auth.sign_in"))


def _complete_sign_in(record: UserSession, user: User, how: str) -> None:
    """The second factor passed: the session counts as signed in from now on."""
    now = utcnow()
    record.mfa_at = now
    record.last_seen_at = now
    user.last_sign_in_at = now
    throttle.record(throttle.account_key(user.email), sessions.client_address(), how, True)
    audit(user, "sign_in", "user", user.id, detail=how)
    devices.recognise(user)  # a new device is emailed (issue 17 §2)


def _signed_in_now(user: User):
    """Show the rest of this response as signed in (the request began before the code was accepted)."""
    g.portal_user = user
    login_manager._update_request_context_with_user(user)


def _after_sign_in(user: User):
    return redirect(_safe_next(session.pop("next", None)) or _home(user))


def _code_failed(record: UserSession, user: User, step: str, locked: bool) -> bool:
    """Count a wrong code; True when this pending sign-in has now had too many and has ended."""
    throttle.record(throttle.account_key(user.email), sessions.client_address(),
                    throttle.LOCKED if locked else step, False)
    audit(None, "sign_in", "user", user.id, outcome="refused", detail=step)
    record.mfa_failures += 1
    if record.mfa_failures >= MAX_CODE_FAILURES:
        sessions.end(record, "locked")
        return True
    return False


def _too_many_codes():
    sessions.forget_cookie()
    flash("You entered a wrong code too many times. Sign in again.", "info")
    return redirect(url_for("auth.sign_in"))


def _second_factor(form, step: str, accept, refused: str, template: str):
    """The security-code and recovery-code steps: one code accepted completes the sign-in; a wrong one is counted
    (a lock refuses even a right one, with the same message); too many end the pending sign-in."""
    record = _pending()
    if record is None:
        return _no_pending_sign_in()
    user = record.user
    if not user.mfa_secret:
        return redirect(url_for("auth.set_up_mfa"))
    if form.validate_on_submit():
        ended = False
        with unit_of_work(form):
            locked = throttle.is_locked(throttle.account_key(user.email), sessions.client_address())
            accepted = not locked and accept(user, form.code.data)
            if accepted:
                _complete_sign_in(record, user, step)
            else:
                ended = _code_failed(record, user, step, locked)
        if accepted:
            if step == throttle.RECOVERY_CODE:
                left = mfa.recovery_codes_left(user)
                flash(f"You have {left} recovery code{'s' if left != 1 else ''} left. "
                      + ("Make new ones from Your account." if left <= 3 else ""), "info")
            return _after_sign_in(user)
        if ended:
            return _too_many_codes()
        form.code.errors.append(refused)
    return render_template(template, form=form), 422 if form.is_submitted() else 200


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
def security_code():
    return _second_factor(SecurityCodeForm(), throttle.SECURITY_CODE, mfa.accept_code, CODE_REFUSED,
                          "auth/security_code.html")


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
def recovery_code():
    return _second_factor(RecoveryCodeForm(), throttle.RECOVERY_CODE, mfa.use_recovery_code, RECOVERY_REFUSED,
                          "auth/recovery_code.html")


@bp.route("/sign-in/set-up-authenticator-app", methods=["GET", "POST"])
def set_up_mfa():
    """First sign-in (or after an MFA reset): add the portal to an authenticator app and prove it with a code."""
    record = _pending()
    if record is None:
        return _no_pending_sign_in()
    user = record.user
    if user.mfa_secret:
        return redirect(url_for("auth.security_code"))
    if not record.pending_mfa_secret:
        with unit_of_work():
            record.pending_mfa_secret = mfa.new_secret()
    secret = record.pending_mfa_secret
    form = SecurityCodeForm()
    if form.validate_on_submit():
        codes: list[str] = []
        ended = False
        with unit_of_work(form):
            accepted = mfa.accept_code(user, form.code.data, secret=secret)
            if accepted:
                codes = mfa.enrol(user, secret)
                record.pending_mfa_secret = None
                audit(user, "set_up_mfa", "user", user.id)
                _complete_sign_in(record, user, throttle.SECURITY_CODE)
            else:
                ended = _code_failed(record, user, throttle.SECURITY_CODE, False)
        if accepted:
            _signed_in_now(user)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next=_safe_next(session.pop("next", None)) or _home(user), first_time=True)
        if ended:
            return _too_many_codes()
        form.code.errors.append("The security code is not correct. Check your app shows the code for the West "
                                "Midlands placement portal, and enter the latest one")
    return render_template("auth/set_up_mfa.html", form=form, email=user.email,
                           qr=mfa.qr_svg(mfa.provisioning_uri(secret, user.email)),
                           secret=mfa.formatted_secret(secret)), 422 if form.is_submitted() else 200


# ---------------------------------------------------------------------------------------------- sign out

@bp.post("/sign-out")
def sign_out():
    record = g.get("portal_session")
    if record is not None:
        with unit_of_work():
            sessions.end(record, "sign_out")
            if record.mfa_at is not None:
                audit(record.user, "sign_out", "user", record.user_id)
    sessions.forget_cookie()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.get("/signed-out")
def signed_out():
    reason = request.args.get("reason")
    message = SIGNED_OUT_REASONS.get(reason, SIGNED_OUT_REASONS[sessions.ENDED])
    target = _safe_next(request.args.get("next"))
    return render_template("auth/signed_out.html", message=message,
                           sign_in_url=url_for("auth.sign_in", next=target) if target else url_for("auth.sign_in"))


# ----------------------------------------------------------------------------------- the timeout warning

@bp.get("/account/session")
@role_required(*EVERYONE)
def session_status():
    """How long this session has before the idle or the absolute limit signs it out (for the page's timeout
    warning; asking does not count as activity)."""
    record = g.portal_session
    limits = sessions.limits()
    now = utcnow()
    idle_left = (record.last_seen_at + limits.idle - now).total_seconds()
    absolute_left = (record.created_at + limits.absolute - now).total_seconds()
    left = max(0, int(min(idle_left, absolute_left)))
    return {"seconds_left": left, "reason": "idle" if idle_left <= absolute_left else "absolute"}


@bp.post("/account/keep-alive")
@role_required(*EVERYONE)
def keep_alive():
    """"Stay signed in" on the timeout warning: counts as activity (the absolute limit still applies)."""
    with unit_of_work():
        g.portal_session.last_seen_at = utcnow()
    return "", 204


# --------------------------------------------------------------------------------------------- own account

@bp.get("/account")
@role_required(*EVERYONE)
def account():
    return render_template("auth/account.html", user=current_user, live=sessions.live_sessions(current_user),
                           this_session=g.portal_session, recovery_left=mfa.recovery_codes_left(current_user),
                           form=ConfirmForm())


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*EVERYONE)
def change_password():
    form = ChangePasswordForm()
    form.password_context = (current_user.email, current_user.name)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.change_password(current_user, form.current_password.data, form.password.data)
        if work.ok:
            sessions.forget_cookie()
            flash("Your password has been changed and you have been signed out everywhere. Sign in with your new "
                  "password.", "success")
            return redirect(url_for("auth.sign_in"))
        return render_template("auth/change_password.html", form=form), work.status
    return render_template("auth/change_password.html", form=form), 422 if form.is_submitted() else 200


@bp.post("/account/sign-out-everywhere")
@role_required(*EVERYONE)
def sign_out_everywhere():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    with unit_of_work():
        ended = services.sign_out_everywhere(current_user)
    sessions.forget_cookie()
    flash(f"You have signed out of every device ({ended} session{'s' if ended != 1 else ''}).", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/emails", methods=["GET", "POST"])
@role_required(*EVERYONE)
def email_choices():
    """Which emails the person gets, and which come gathered in one email a day (issue 17 §2)."""
    from portal.notifications.services import choices_for
    from portal.notifications.templates import TEMPLATES, choosable

    kinds = [(t.name, t.choice_label) for t in choosable(current_user.role)]
    form = email_choices_form(kinds, data=choices_for(current_user))
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.set_email_choices(current_user, {name: form[name].data for name, _ in kinds})
        if work.ok:
            flash("Your email choices are saved.", "success")
            return redirect(url_for("auth.account"))
    security = [t.subject for t in TEMPLATES.values() if t.security]
    return render_template("auth/email_choices.html", form=form, kinds=kinds, security=security), \
        422 if form.is_submitted() else 200


@bp.get("/notifications")
@role_required(*EVERYONE)
def notifications():
    """The person's own notifications, newest first: every message the portal emails them (or would have, for a
    kind they turned off for email), with its subject, time and link (issue 17 §2)."""
    from portal import listing
    from portal.notifications.queries import list_in_app

    paged = list_in_app(current_user, page=listing.page_number(request.args.get("page")))
    return render_template("auth/notifications.html", form=ConfirmForm(),
                           items=listing.ListPage(paged, endpoint="auth.notifications"))


@bp.post("/notifications/<notification_id>/read")
@role_required(*EVERYONE)
def mark_notification_read(notification_id: str):
    """Mark one of one's own notifications read; again is harmless; someone else's is 404."""
    from portal.notifications.services import mark_read

    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            mark_read(current_user, notification_id)
        if not work.ok:
            raise NotFound()
    return redirect(url_for("auth.notifications", page=request.args.get("page")))


@bp.post("/notifications/read")
@role_required(*EVERYONE)
def mark_all_notifications_read():
    from portal.notifications.services import mark_all_read

    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work():
            marked = mark_all_read(current_user)
        flash(f"{marked} notification{'s' if marked != 1 else ''} marked as read." if marked
              else "You have no unread notifications.", "success")
    return redirect(url_for("auth.notifications"))


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@role_required(*EVERYONE)
def new_recovery_codes():
    """New recovery codes replace the old ones; the password is asked again first (ASVS 7.5.1)."""
    form = ReauthenticateForm()
    if form.validate_on_submit():
        codes: list[str] = []
        with unit_of_work(form) as work:
            codes = services.new_recovery_codes(current_user, form.password.data)
        if work.ok:
            return render_template("auth/recovery_codes.html", codes=codes, next=url_for("auth.account"),
                                   first_time=False)
        return render_template("auth/reauthenticate.html", form=form, title="Make new recovery codes"), work.status
    return render_template("auth/reauthenticate.html", form=form, title="Make new recovery codes"), \
        422 if form.is_submitted() else 200


@bp.post("/account/sessions/<session_id>/end")
@role_required(*EVERYONE)
def end_session(session_id: str):
    """End one of one's own other sessions (a browser left signed in elsewhere)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work():
            ended = services.end_own_session(current_user, session_id)
        if ended:
            flash("That session has been signed out.", "success")
    return redirect(url_for("auth.account"))


# ----------------------------------------------------------------------------------------- reset links

@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Email a one-time link to reset the password (issue 17 §3). The answer is the same page whether or not the
    address has an account, and whether or not it was throttled; the email is sent afterwards by the worker."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        with unit_of_work(form):
            services.request_password_reset(form.email.data, sessions.client_address())
        # A registered address's request writes one more row (its email); the answer waits until a fixed time
        # after the request arrived, so its timing cannot tell whether the address has an account.
        time.sleep(max(0.0, current_app.config["PASSWORD_RESET_ANSWER_MS"] / 1000 - (time.monotonic() - started)))
        return render_template("auth/forgot_password_sent.html", email=form.email.data.strip(),
                               minutes=current_app.config["PASSWORD_RESET_MINUTES"])
    return render_template("auth/forgot_password.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = services.user_for_reset_token(token)
    except NotFound as error:
        return render_template("auth/link_invalid.html", message=str(error)), 404
    form = ResetPasswordForm()
    form.password_context = (user.email, user.name)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.reset_password(token, form.password.data)  # checks the link again, in the write
        if work.ok:
            if g.get("portal_session") is not None:
                sessions.forget_cookie()
            flash("Your password is set. Sign in with your email address and new password.", "success")
            return redirect(url_for("auth.sign_in"))
        return render_template("auth/link_invalid.html", message=work.message), work.status
    return render_template("auth/reset_password.html", form=form, user=user), 422 if form.is_submitted() else 200


# ------------------------------------------------------------------ managing other people's sign-in

def _managed_person(user_id: str) -> User:
    from portal.auth.queries import find_user

    user = find_user(user_id)
    if user is None:
        raise NotFound("No such person")
    if not services.may_manage(current_user, user):
        audit_now(current_user, "view_account_security", "user", user.id, outcome="refused")
        raise Forbidden("You cannot manage this person's account")
    return user


def _render_person(user: User, form, *, error: str | None = None, status: int = 200):
    return render_template("auth/person_security.html", person=user, form=form, error=error,
                           live=len(sessions.live_sessions(user)),
                           recovery_left=mfa.recovery_codes_left(user)), status


@bp.get("/people/<user_id>/security")
@role_required("admin", "provider", provider_roles=("admin",))
def person_security(user_id: str):
    return _render_person(_managed_person(user_id), ConfirmForm())


@bp.post("/people/<user_id>/reset-mfa")
@role_required("admin", "provider", provider_roles=("admin",))
def reset_person_mfa(user_id: str):
    user = _managed_person(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.person_security", user_id=user.id))
    with unit_of_work(form) as work:
        services.reset_mfa(current_user, user)
    if not work.ok:
        return _render_person(user, form, error=work.message, status=work.status)
    flash(f"{user.name}'s security code has been reset and they have been signed out. They will set up their "
          "authenticator app again when they next sign in.", "success")
    return redirect(url_for("auth.person_security", user_id=user.id))


@bp.post("/people/<user_id>/sign-out")
@role_required("admin", "provider", provider_roles=("admin",))
def sign_out_person(user_id: str):
    """End every session of someone else (a lost laptop, someone leaving), without changing their password."""
    user = _managed_person(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.person_security", user_id=user.id))
    with unit_of_work(form) as work:
        ended = services.sign_out_person(current_user, user)
    if not work.ok:
        return _render_person(user, form, error=work.message, status=work.status)
    flash(f"{user.name} has been signed out of {ended} session{'s' if ended != 1 else ''}.", "success")
    return redirect(url_for("auth.person_security", user_id=user.id))


@bp.post("/people/<user_id>/reset-link")
@role_required("admin", "provider", provider_roles=("admin",))
def issue_reset_link(user_id: str):
    user = _managed_person(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.person_security", user_id=user.id))
    with unit_of_work(form) as work:
        token = services.issue_reset_link(current_user, user)
    if not work.ok:
        return _render_person(user, form, error=work.message, status=work.status)
    return render_template("auth/reset_link.html", person=user,
                           link=url_for("auth.reset_password", token=token, _external=True),
                           hours=services.RESET_HOURS)
