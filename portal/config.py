"""Settings: one place for every configurable value (STYLE.md habit 11).

Every setting can be overridden by an environment variable of the same name, or by `create_app(overrides)`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def load_config() -> dict:
    """Return the settings from the environment, with the embedded defaults."""
    default_db = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    return {
        # PostgreSQL in production: postgresql+psycopg://user:password@host/dbname
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        # Signs session cookies and CSRF tokens. Set a long random value in production.
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-not-secret-change-me"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": _env_int("PORTAL_SESSION_MINUTES", 8 * 60) * 60,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _env_int("PORTAL_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        # Commissioner pages show counts from 1 up to this number as "c" (DESIGN.md §5).
        "SUPPRESSION_THRESHOLD": _env_int("PORTAL_SUPPRESSION_THRESHOLD", 7),
        # Browsers poll the live match list this often (issue 4: updates within 15 seconds).
        "MATCH_POLL_SECONDS": _env_int("PORTAL_MATCH_POLL_SECONDS", 10),
        # A vacancy not confirmed for this many days is stale and ranks lower (issue 5).
        "VACANCY_STALE_DAYS": _env_int("PORTAL_VACANCY_STALE_DAYS", 14),
        # SQLite: how long a writer queues for the write lock before the request is answered 503 with Retry-After.
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("PORTAL_SQLITE_BUSY_TIMEOUT_MS", 15000),
        "SERVICE_NAME": "West Midlands placement portal",
        "TESTING": False,
    }
