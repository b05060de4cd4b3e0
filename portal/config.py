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


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


# Values that must never sign production cookies: the old built-in default and the ones the tests use.
KNOWN_DEVELOPMENT_SECRETS = frozenset({
    "dev-only-not-secret-change-me", "test-secret", "browser-test", "change-me", "changeme", "secret", "dev",
    "development",
})
MIN_SECRET_LENGTH = 32
ENVIRONMENTS = ("production", "development")


class ConfigError(RuntimeError):
    """A setting that makes it unsafe to start; the message says which and how to fix it."""


def load_config() -> dict:
    """Return the settings from the environment, with the embedded defaults."""
    default_db = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    env = os.environ.get("PORTAL_ENV", "production").strip().lower() or "production"
    return {
        # production unless set: `make run` and the tests set development (DESIGN.md §3, modes).
        "PORTAL_ENV": env,
        # PostgreSQL in production: postgresql+psycopg://user:password@host/dbname
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        # Signs session cookies and CSRF tokens. Required in production (32 characters or more, random); in
        # development a random one is made once and kept in instance/secret_key.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies in production (HTTPS); SESSION_COOKIE_SECURE=0 or 1 overrides.
        "SESSION_COOKIE_SECURE": (os.environ["SESSION_COOKIE_SECURE"] == "1") if os.environ.get("SESSION_COOKIE_SECURE") else None,
        # The `__Host-` prefix (production): the browser keeps the cookie only if it is Secure, for this host
        # alone and for every path, so no sibling subdomain can set or read it.
        "SESSION_COOKIE_NAME": os.environ.get("SESSION_COOKIE_NAME") or None,
        "SESSION_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Server-side sessions (portal.auth.sessions): signed out after this long without a request, and always
        # this long after signing in, however active; a pending sign-in has this long to give its security code.
        "SESSION_IDLE_MINUTES": _env_int("PORTAL_SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _env_int("PORTAL_SESSION_ABSOLUTE_HOURS", 12),
        "SESSION_MFA_MINUTES": _env_int("PORTAL_SESSION_MFA_MINUTES", 10),
        # Sign-in throttling (portal.auth.throttle): more than N failures in the window lock for the lock time.
        "SIGN_IN_ACCOUNT_FAILURES": _env_int("PORTAL_SIGN_IN_ACCOUNT_FAILURES", 10),
        "SIGN_IN_ADDRESS_FAILURES": _env_int("PORTAL_SIGN_IN_ADDRESS_FAILURES", 100),
        "SIGN_IN_WINDOW_MINUTES": _env_int("PORTAL_SIGN_IN_WINDOW_MINUTES", 15),
        "SIGN_IN_LOCK_MINUTES": _env_int("PORTAL_SIGN_IN_LOCK_MINUTES", 15),
        # argon2id cost (portal.auth.passwords): RFC 9106's second recommended profile.
        "PASSWORD_ARGON2_TIME_COST": _env_int("PORTAL_ARGON2_TIME_COST", 3),
        "PASSWORD_ARGON2_MEMORY_KIB": _env_int("PORTAL_ARGON2_MEMORY_KIB", 65536),
        "PASSWORD_ARGON2_PARALLELISM": _env_int("PORTAL_ARGON2_PARALLELISM", 4),
        # Behind a reverse proxy: how many proxies' X-Forwarded-For entries to trust for the client address
        # (audit and per-address throttling). 0 trusts none: the address is the connecting peer's.
        "TRUSTED_PROXY_COUNT": _env_int("PORTAL_TRUSTED_PROXY_COUNT", 0),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _env_int("PORTAL_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        # Commissioner pages show counts from 1 up to this number as "c" (DESIGN.md §5).
        "SUPPRESSION_THRESHOLD": _env_int("PORTAL_SUPPRESSION_THRESHOLD", 7),
        # Browsers poll the live match list this often (issue 4: updates within 15 seconds).
        "MATCH_POLL_SECONDS": _env_int("PORTAL_MATCH_POLL_SECONDS", 10),
        # A vacancy not confirmed for this many days is stale and ranks lower (issue 5).
        "VACANCY_STALE_DAYS": _env_int("PORTAL_VACANCY_STALE_DAYS", 14),
        # The daily reminders (`flask notifications remind`, issue 17 §2): a vacancy this many days before it goes
        # stale, a placement this many days before it starts (and on the day).
        "VACANCY_REMINDER_DAYS": _env_int("PORTAL_VACANCY_REMINDER_DAYS", 3),
        "PLACEMENT_REMINDER_DAYS": _env_int("PORTAL_PLACEMENT_REMINDER_DAYS", 2),
        # The integration API (issue 14): requests one token may make per window, in each process (0: no limit).
        "API_RATE_LIMIT": _env_int("PORTAL_API_RATE_LIMIT", 300),
        "API_RATE_WINDOW_SECONDS": _env_int("PORTAL_API_RATE_WINDOW_SECONDS", 60),
        # SQLite: how long a writer queues for the write lock before the request is answered 503 with Retry-After.
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("PORTAL_SQLITE_BUSY_TIMEOUT_MS", 15000),
        # PostgreSQL: how long opening a connection may take before it fails (a 503, a failed readiness check).
        "DB_CONNECT_TIMEOUT_SECONDS": _env_int("PORTAL_DB_CONNECT_TIMEOUT_SECONDS", 10),
        # PostgreSQL: the server cancels any one statement running longer than this (statement_timeout; 0: never);
        # the request is answered 503 with Retry-After and nothing it began is saved. Jobs and CLI commands too.
        "DB_STATEMENT_TIMEOUT_MS": _env_int("PORTAL_DB_STATEMENT_TIMEOUT_MS", 15000),
        # A web request still running after this many seconds issues no further SQL statement: it is answered 503
        # with Retry-After and rolled back, rather than holding a worker thread until gunicorn's 60 s timeout
        # (0: no deadline). A statement started before the deadline is bounded by the statement timeout.
        "REQUEST_DEADLINE_SECONDS": _env_float("PORTAL_REQUEST_DEADLINE_SECONDS", 30.0),
        # `flask db backup` / `restore` on PostgreSQL: the folder holding pg_dump and pg_restore (default: the PATH).
        "PG_BINDIR": os.environ.get("PORTAL_PG_BINDIR") or None,
        # How long bookkeeping rows are kept before `flask retention prune` deletes them (portal.retention).
        "RETAIN_SIGN_IN_ATTEMPTS_DAYS": _env_int("PORTAL_RETAIN_SIGN_IN_ATTEMPTS_DAYS", 90),
        "RETAIN_ENDED_SESSIONS_DAYS": _env_int("PORTAL_RETAIN_ENDED_SESSIONS_DAYS", 90),
        "RETAIN_FORM_KEYS_DAYS": _env_int("PORTAL_RETAIN_FORM_KEYS_DAYS", 7),
        "RETAIN_API_IDEMPOTENCY_HOURS": _env_int("PORTAL_RETAIN_API_IDEMPOTENCY_HOURS", 24),
        "RETAIN_SENT_NOTIFICATIONS_DAYS": _env_int("PORTAL_RETAIN_SENT_NOTIFICATIONS_DAYS", 30),
        "RETAIN_DEAD_NOTIFICATIONS_DAYS": _env_int("PORTAL_RETAIN_DEAD_NOTIFICATIONS_DAYS", 90),
        # The portal's address as people reach it: links in emails are made from it, never from a request's Host
        # header (which a client chooses). Required in production for the notifications worker.
        "BASE_URL": (os.environ.get("PORTAL_BASE_URL") or "").rstrip("/") or None,
        # Email (issue 17): GOV.UK Notify when NOTIFY_API_KEY is set (a template id per message, NOTIFY_TEMPLATE_<NAME>),
        # else SMTP when SMTP_HOST is set; in development, without either, the mail viewer (/development/mail).
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "1").strip().lower() not in ("0", "false", "no", ""),
        "SMTP_TIMEOUT_SECONDS": _env_int("SMTP_TIMEOUT_SECONDS", 30),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "West Midlands placement portal <no-reply@localhost>",
        "NOTIFY_API_KEY": os.environ.get("NOTIFY_API_KEY") or None,
        "NOTIFY_BASE_URL": os.environ.get("NOTIFY_BASE_URL") or "https://api.notifications.service.gov.uk",
        "NOTIFY_TEMPLATE_IDS": {key.removeprefix("NOTIFY_TEMPLATE_").lower(): value
                                for key, value in os.environ.items() if key.startswith("NOTIFY_TEMPLATE_") and value},
        # The worker (`flask notifications send`): attempts before a message is dead, the first wait after a
        # failure (doubled after each attempt, up to the cap), and how often it looks for due messages.
        "NOTIFICATIONS_MAX_ATTEMPTS": _env_int("PORTAL_NOTIFICATIONS_MAX_ATTEMPTS", 8),
        "NOTIFICATIONS_RETRY_SECONDS": _env_int("PORTAL_NOTIFICATIONS_RETRY_SECONDS", 60),
        "NOTIFICATIONS_RETRY_MAX_SECONDS": _env_int("PORTAL_NOTIFICATIONS_RETRY_MAX_SECONDS", 6 * 3600),
        "NOTIFICATIONS_POLL_SECONDS": _env_int("PORTAL_NOTIFICATIONS_POLL_SECONDS", 5),
        # The daily digest (for the kinds of email a person asked to have gathered) goes at this hour, UTC.
        "NOTIFICATIONS_DIGEST_HOUR": _env_int("PORTAL_NOTIFICATIONS_DIGEST_HOUR", 7),
        # "Forgot your password?" (issue 17 §3): how long an emailed link works, and how many reset emails one
        # address (and one client address) may ask for in SIGN_IN_WINDOW_MINUTES.
        "PASSWORD_RESET_MINUTES": _env_int("PORTAL_PASSWORD_RESET_MINUTES", 30),
        "PASSWORD_RESET_ACCOUNT_REQUESTS": _env_int("PORTAL_PASSWORD_RESET_ACCOUNT_REQUESTS", 3),
        "PASSWORD_RESET_ADDRESS_REQUESTS": _env_int("PORTAL_PASSWORD_RESET_ADDRESS_REQUESTS", 20),
        # Every "Forgot your password?" answer is given this long after the request arrived (or later, when the
        # work took longer), so a registered address's answer takes as long as an unknown one's.
        "PASSWORD_RESET_ANSWER_MS": _env_int("PORTAL_PASSWORD_RESET_ANSWER_MS", 250),
        "SERVICE_NAME": "West Midlands placement portal",
        "TESTING": False,
    }


def apply_mode_defaults(config: dict) -> None:
    """Settings whose default depends on PORTAL_ENV, filled in once the mode is final (after any overrides):
    in production the session cookie is Secure and named `__Host-portal_session`."""
    production = config.get("PORTAL_ENV", "production") == "production"
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = production
    if not config.get("BASE_URL") and not production:
        config["BASE_URL"] = "http://127.0.0.1:8000"
    if not config.get("SESSION_COOKIE_NAME") or config["SESSION_COOKIE_NAME"] == "session":
        config["SESSION_COOKIE_NAME"] = "__Host-portal_session" if production else "portal_session"
    # The browser's known-device cookie (portal.auth.devices): `__Host-` needs a Secure cookie.
    config["DEVICE_COOKIE_NAME"] = "__Host-portal_device" if config["SESSION_COOKIE_SECURE"] else "portal_device"


def check_secrets(config: dict, instance_dir: Path) -> None:
    """Refuse to start in production without a strong SECRET_KEY; in development make one and keep it."""
    env = config.get("PORTAL_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    key = config.get("SECRET_KEY")
    if env == "development":
        if not key:
            config["SECRET_KEY"] = development_secret(instance_dir)
        return
    if not key:
        raise ConfigError("SECRET_KEY is not set. In production set SECRET_KEY to a random value of at least "
                          f"{MIN_SECRET_LENGTH} characters (for example: python3 -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))'), or set PORTAL_ENV=development on a developer's machine.")
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"SECRET_KEY is {len(key)} characters long: in production it must be at least "
                          f"{MIN_SECRET_LENGTH} random characters.")
    if key.strip().lower() in KNOWN_DEVELOPMENT_SECRETS or key in KNOWN_DEVELOPMENT_SECRETS:
        raise ConfigError("SECRET_KEY is a known development value: set a random one for production.")


def development_secret(instance_dir: Path) -> str:
    """The development SECRET_KEY: random, made on first run and kept in instance/secret_key (mode 600)."""
    import secrets

    path = instance_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key
