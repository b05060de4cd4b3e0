"""Multi-factor authentication (issue 15 §2): TOTP (RFC 6238) with an authenticator app, and recovery codes.

- A secret is 160 random bits (base32), offered at the first sign-in as a QR code (segno, inline SVG, made on
  the server: no external service sees it) and as text for manual entry; it is saved only once a code made
  from it is accepted.
- A code is accepted in the 30-second step it belongs to or the one either side (clock drift), and only once:
  the last accepted step is kept, so a code seen over someone's shoulder cannot be replayed (ASVS 6.5.1).
- Ten recovery codes of 80 random bits each, shown once and stored as SHA-256 hashes (a fast hash is enough
  for a random secret that long); each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import delete, func, select

from portal.db import db, utcnow
from portal.models import RecoveryCode, User

ISSUER = "West Midlands placement portal"
STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code, with a text alternative for screen readers."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title="QR code for your authenticator app")


def formatted_secret(secret: str) -> str:
    """The secret in groups of four, as people type it into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def accept_code(user: User, code: str, *, secret: str | None = None, now: float | None = None) -> bool:
    """True if `code` is a current code for `secret` (default: the user's) not used before. Records the step."""
    secret = secret or user.mfa_secret
    code = normalise_code(code)
    if not secret or len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    step_now = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (step_now - 1, step_now, step_now + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            if user.mfa_last_step is not None and step <= user.mfa_last_step:
                return False  # this code, or a later one, was already used
            user.mfa_last_step = step
            return True
    return False


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(normalise_code(code).upper().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them, to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 16 characters, 80 bits
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True, and the code is spent, if `code` is one of the user's unused recovery codes."""
    if len(normalise_code(code)) != 16:
        return False
    row = db.session.scalar(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(code),
                                   RecoveryCode.used_at.is_(None))
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def enrol(user: User, secret: str) -> list[str]:
    """Save the proven secret; returns the new recovery codes."""
    user.mfa_secret = secret
    user.mfa_enrolled_at = utcnow()
    return new_recovery_codes(user)


def clear(user: User) -> None:
    """Forget the user's authenticator and recovery codes: they enrol again at their next sign-in."""
    user.mfa_secret = None
    user.mfa_enrolled_at = None
    user.mfa_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
