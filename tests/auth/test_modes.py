"""PORTAL_ENV is production unless set, and production refuses to start without a strong SECRET_KEY."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from portal import create_app
from portal.config import ConfigError, development_secret, load_config

ROOT = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(48)


def _production(**settings):
    return create_app({"PORTAL_ENV": "production", "DATABASE_URL": "sqlite://", **settings})


@pytest.mark.parametrize("key, message", [
    (None, "SECRET_KEY is not set"),
    ("", "SECRET_KEY is not set"),
    ("short-but-random-Zq8", "must be at least 32"),
    ("dev-only-not-secret-change-me", "at least 32"),  # the old built-in default
    ("development" * 3 + "ab", None),  # long enough and not a listed value: allowed
])
def test_production_refuses_a_missing_short_or_development_key(key, message):
    if message is None:
        assert _production(SECRET_KEY=key).config["SECRET_KEY"] == key
        return
    with pytest.raises(ConfigError, match=message):
        _production(SECRET_KEY=key)


def test_a_known_development_value_is_refused_whatever_its_length(monkeypatch):
    from portal import config

    monkeypatch.setattr(config, "KNOWN_DEVELOPMENT_SECRETS", config.KNOWN_DEVELOPMENT_SECRETS | {STRONG})
    with pytest.raises(ConfigError, match="known development value"):
        _production(SECRET_KEY=STRONG)


def test_production_is_the_default_and_its_cookies_are_secure(monkeypatch):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    from portal.config import apply_mode_defaults

    settings = load_config()
    apply_mode_defaults(settings)
    assert settings["PORTAL_ENV"] == "production" and settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    monkeypatch.setenv("PORTAL_ENV", "development")
    settings = load_config()
    apply_mode_defaults(settings)
    assert settings["SESSION_COOKIE_SECURE"] is False and settings["SESSION_COOKIE_NAME"] == "portal_session"


def test_an_unknown_mode_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_ENV must be one of"):
        create_app({"PORTAL_ENV": "staging", "SECRET_KEY": STRONG, "DATABASE_URL": "sqlite://"})


def test_the_server_will_not_start_without_a_key_and_says_why(tmp_path):
    """What gunicorn and `flask` load (wsgi.py): a clear message and exit status 2, no traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ENV", "SECRET_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "The portal will not start: SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    env["SECRET_KEY"] = STRONG
    assert subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env).returncode == 0


def test_development_makes_a_random_key_once_and_keeps_it(tmp_path):
    first = development_secret(tmp_path)
    assert len(first) >= 32 and development_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    other = tmp_path / "other"
    assert development_secret(other) != first  # random, not a constant
