"""Passwords (issue 15 §4): argon2id hashes, a policy against common passwords, and upgrades of old hashes.

- Hashing is argon2id (argon2-cffi) with the RFC 9106 second recommended profile by default (64 MiB, 3 passes,
  4 lanes); `PASSWORD_ARGON2_*` settings tune it (the tests use a cheap profile).
- A hash made by an older scheme (werkzeug's scrypt or PBKDF2, or argon2 with other parameters) is checked as it
  is and replaced by a current argon2id hash at the next successful sign-in.
- Unknown accounts are checked against a dummy hash of the same cost, so a sign-in takes as long whether or not
  the account exists (ASVS 6.3).
- The policy follows NCSC and NIST SP 800-63B: 12 to 256 characters, any characters, no composition rules, and
  no password that is common or easy to guess (zxcvbn's 30,000 most common passwords and its guess estimate,
  given the person's own name and email address).
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from werkzeug.security import check_password_hash

from portal.db import utcnow
from portal.models import User

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn reads at most 72 characters; a longer password is judged on its first 72.
_ZXCVBN_MAX = 72
# zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_SCORE = 3
# Words anyone would try against this service.
SERVICE_WORDS = ("west midlands", "westmidlands", "placement", "portal", "coventry", "birmingham", "fostering")


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher() -> PasswordHasher:
    """The hasher the settings ask for (the defaults outside an app, as when the demo generator runs alone)."""
    config = current_app.config if has_app_context() else {}
    return _hasher(int(config.get("PASSWORD_ARGON2_TIME_COST", 3)), int(config.get("PASSWORD_ARGON2_MEMORY_KIB", 65536)),
                   int(config.get("PASSWORD_ARGON2_PARALLELISM", 4)))


@lru_cache(maxsize=4)
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def set_password(user: User, password: str) -> None:
    """Give `user` a new password (the caller checked the policy and ends their sessions)."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def verify_password(user: User | None, password: str) -> bool:
    """True if `password` is `user`'s. Takes the same time for an unknown user (None). On success an outdated
    hash is replaced in the session (the caller's unit of work saves it)."""
    ph = hasher()
    stored = user.password_hash if user is not None else ""
    if not stored.startswith("$argon2"):
        if user is None or not stored:
            _check_argon2(ph, _dummy_hash(ph), password)
            return False
        if not check_password_hash(stored, password):  # an older werkzeug hash (scrypt or PBKDF2)
            return False
        user.password_hash = ph.hash(password)
        return True
    if not _check_argon2(ph, stored, password):
        return False
    if ph.check_needs_rehash(stored):
        user.password_hash = ph.hash(password)
    return True


def _check_argon2(ph: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return ph.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` may not be used, as the message for its field; None if it may."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    from zxcvbn import zxcvbn
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    if password.lower() in _common_passwords(id(FREQUENCY_LISTS)):
        return "This password is one of the most common passwords. Choose a password that is harder to guess"
    inputs = [part for value in user_inputs for part in (value, *value.replace("@", " ").replace(".", " ").split())]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[*SERVICE_WORDS, *inputs])
    if result["score"] < MIN_SCORE:
        return ("This password would be easy to guess. Choose a password that is harder to guess, for example three "
                "or four random words")
    return None


@lru_cache(maxsize=1)
def _common_passwords(_key: int) -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
