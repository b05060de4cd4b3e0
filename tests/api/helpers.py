"""Tokens for the API tests: issued through the service, as the command line and the pages do."""

from __future__ import annotations

from portal.api import services
from portal.db import db


def token_for(user, *scopes: str, days: int = 30) -> str:
    issued = services.issue_token(None, user, name="Test system", scopes=list(scopes), days=days)
    db.session.commit()
    return issued.secret


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
