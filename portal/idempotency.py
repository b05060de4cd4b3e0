"""One-time form keys (issue 16 §2): a double click or a browser retry saves once and answers with the first result.

Every portal form carries a hidden `form_key`, new each time the form is drawn (`portal.forms.PortalForm`).

* The first unit of work a POST commits records the key (hashed) with a fingerprint of the answers sent, in the
  same transaction as what it saved: a second submission racing the first waits on that row and finds it taken.
* When the request answers, the key keeps where it led (the redirect) - or is forgotten if the request did not
  succeed (a form error, a conflict), so the person can correct their answers and send the same form again.
* A POST whose key was already used with the same answers, by the same person, to the same page, gets the first
  result again (303 to where the first went) and saves nothing; with other answers it is refused (422): a
  one-time key is for one submission. While the first is still being saved the second waits briefly for it; if
  the first was saved but never answered (its worker was killed between the commit and the answer), the copy is
  told it was saved and sent to the person's home page (303), never saved again.

Keys are random (the form draws them) and only their SHA-256 is stored; fingerprints are hashes too, so this table
holds no answers and no personal data. A POST without a key (an old page, a script) is saved as before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import timezone

from flask import Flask, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal.db import db, utcnow
from portal.models import FormSubmission

KEY_FIELD = "form_key"
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_WAIT_SECONDS = 10.0  # a copy waits as long as the first may reasonably take


def new_key() -> str:
    return secrets.token_urlsafe(18)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fingerprint() -> str:
    """A keyed hash of the answers sent (HMAC with the app's secret key: answers hold personal data, and a plain
    hash of a few guessable fields could be reversed)."""
    answers = sorted((name, value) for name, values in request.form.lists() for value in values
                     if name not in ("csrf_token", KEY_FIELD))
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, json.dumps(answers, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


def _user_id() -> str | None:
    return current_user.get_id() if current_user and current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    app.before_request(_seen_before)
    app.after_request(_settle)
    app.register_error_handler(FormAlreadySent, lambda _error: answer_again())


# Signing in and the account's security forms have their own guards (one-time codes, throttling), and their
# answers are passwords and codes: they are never fingerprinted.
EXEMPT_BLUEPRINTS = frozenset({"auth"})


def _seen_before():
    """Answer a form sent again with the first result (or refuse other answers under the same key)."""
    if request.method != "POST":
        return None
    try:
        key = request.form.get(KEY_FIELD)
    except HTTPException:  # a body too large or malformed: the view answers it as it always has
        return None
    if not key:
        return None
    if not _KEY.match(key):
        from portal.errors import render_error

        return render_error(400, "This form could not be sent", "Reload the page and try again.")
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return None
    # The key is one submission to one address: a page's shared button form (withdraw this offer, that offer)
    # draws one key, and each address it posts to is its own submission.
    g.form_key_hash, g.form_fingerprint = _sha256(f"{key} {request.path}"), _fingerprint()
    row = db.session.get(FormSubmission, g.form_key_hash)
    if row is None:
        return None
    return answer_again(row)


def answer_again(row: FormSubmission | None = None):
    """The response to a form whose key is taken: the first result, a refusal, or "still saving"."""
    from portal.errors import render_error

    key_hash = g.pop("form_key_hash", None)
    fingerprint = g.pop("form_fingerprint", None)
    g.form_key_answered = True
    started = time.monotonic()
    while True:
        if row is None or row.outcome_url is None:
            db.session.rollback()  # read what has been committed since
            row = db.session.get(FormSubmission, key_hash, populate_existing=True)
        if row is None:  # the first submission did not succeed and let the key go: this one may try again
            return render_error(409, "Your first submission was not saved",
                                "Go back, check your answers and send the form again.")
        if row.user_id != _user_id() or row.endpoint != request.endpoint or row.fingerprint != fingerprint:
            return render_error(422, "This form was already sent",
                                "It was sent before with other answers, and a form is sent once. Nothing has been "
                                "saved this time: go back, reload the page and enter your answers again.")
        if row.outcome_url is not None:
            return redirect(row.outcome_url, 303)
        if _first_answer_lost(row, started):
            # The row is only visible once what the form sent was committed with it: the form was saved, but the
            # request that saved it never said where it led (its worker was killed, or the database went away
            # between the commit and the answer). Say so, and send the person home rather than leave them waiting.
            flash("Your form was saved when you first sent it, but the answer was lost on the way. "
                  "Nothing has been saved twice: find what you saved here.", "info")
            return redirect(url_for("auth.index"), 303)
        time.sleep(0.1)


def _first_answer_lost(row: FormSubmission, started: float) -> bool:
    """Whether to stop waiting for the first submission's answer: this copy has waited `_WAIT_SECONDS`, or at
    least a second and the key was claimed over `_WAIT_SECONDS` ago (every request answers within moments of its
    commit)."""
    waited = time.monotonic() - started
    if waited > _WAIT_SECONDS:
        return True
    claimed_at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    return waited > 1.0 and (utcnow() - claimed_at).total_seconds() > _WAIT_SECONDS


class FormAlreadySent(Exception):
    """This request's form key was taken by a submission of the same form a moment ago (answered by
    `answer_again`: the app's error handler)."""


def claim() -> None:
    """Called by the unit of work as it begins: the request's key is recorded in the transaction that saves what
    the form sent (once per request). A second submission of the same form waits here for the first, then finds
    the key taken: FormAlreadySent, and nothing of it is saved."""
    if not has_request_context():
        return
    key_hash = g.get("form_key_hash")
    if key_hash is None or g.get("form_key_claimed"):
        return
    db.session.add(FormSubmission(key_hash=key_hash, user_id=_user_id(), endpoint=request.endpoint or "",
                                  fingerprint=g.form_fingerprint))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise FormAlreadySent() from error
    g.form_key_claimed = True


def release() -> None:
    """The unit of work rolled back: the key was not recorded after all (a retried view claims it again)."""
    if has_request_context():
        g.pop("form_key_claimed", None)


def _settle(response):
    """Keep where a successful submission led; forget the key of one that did not succeed."""
    key_hash = g.get("form_key_hash")
    if key_hash is None or not g.get("form_key_claimed") or g.get("form_key_answered"):
        return response
    try:
        db.session.rollback()
        db.begin_write()  # a small write of its own, like a unit of work's
        if 300 <= response.status_code < 400 and response.location:
            db.session.execute(update(FormSubmission).where(FormSubmission.key_hash == key_hash)
                               .values(outcome_url=response.location[:500]))
        elif response.status_code < 300:
            db.session.execute(update(FormSubmission).where(FormSubmission.key_hash == key_hash)
                               .values(outcome_url=request.full_path.rstrip("?")[:500]))
        else:
            db.session.execute(delete(FormSubmission).where(FormSubmission.key_hash == key_hash))
        db.session.commit()
    except Exception as error:  # the answer stands; a key left without an outcome makes a retry wait, then say so
        db.session.rollback()
        current_app.logger.warning("The outcome of a form submission could not be kept (%s)", type(error).__name__)
    finally:
        db.end_write()
    return response
