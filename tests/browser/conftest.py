"""Browser tests drive a real Chromium (Debian's, PORTAL_CHROMIUM) with Playwright against a live server.

Without Chromium they skip with a message; under PORTAL_REQUIRE_ALL=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from tests.conftest import TEST_PASSWORD_HASHING, require

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no network here: don't try to reach Google's services
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(path).exists(), f"browser tests need Chromium at {path} (apt-get install chromium; PORTAL_CHROMIUM)")
    return path


@pytest.fixture
def live_app(tmp_path, sqlite_template):
    """The portal served on a free loopback port, on its own SQLite database."""

    path = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-test",
                      "MATCH_POLL_SECONDS": 1, **TEST_PASSWORD_HASHING})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["portal_db"][0].dispose()


@pytest.fixture
def browser_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Anything the Content-Security-Policy blocked (an inline script or style without its nonce) fails too.
        page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
        yield page
        context.close()
        browser.close()
        assert errors == [], f"JavaScript errors or blocked content on the page: {errors}"
