"""The development mail viewer: what the development sender 'sent', on a developer's machine only.

Registered only when PORTAL_ENV=development (portal/__init__.py), and open without signing in, like a local mail
catcher: a password reset link must be readable by someone who cannot sign in. `make run` prints its address.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from portal import listing
from portal.notifications import queries
from portal.notifications.senders import Message, resolve_fields

bp = Blueprint("notifications", __name__)


def _development_only(view):
    view.public = True  # no sign-in: see the module docstring (tests/test_architecture.py lists it)
    return view


@bp.get("/development/mail")
@_development_only
def mail_viewer():
    if current_app.config.get("PORTAL_ENV") != "development":
        abort(404)
    paged = queries.list_development_mail(page=listing.page_number(request.args.get("page")))
    base_url = current_app.config["BASE_URL"]
    messages = []
    for row in paged:
        subject, body = Message(row.id, row.user.email, row.template,
                                resolve_fields(row.personalisation or {}, base_url, current_app.url_map)).rendered
        messages.append({"row": row, "to": row.user.email, "subject": subject, "body": body})
    return render_template("notifications/mail_viewer.html", messages=messages,
                           mail=listing.ListPage(paged, endpoint="notifications.mail_viewer"))
