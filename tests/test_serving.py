"""The portal as it is served (issue 16), with real processes: gunicorn with gunicorn.conf.py (as `make run` and the
image start it): health checks answered and left out of the access log, a graceful reload and stop; and two
gunicorn "hosts" on one PostgreSQL behind nginx with deploy/nginx.conf, where a person signed in through one host
stays signed in on the other, and the proxy goes on serving when a host stops. No container engine is needed."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import free_port, postgres_only, require, totp_code
from tests.factories import TEST_MFA_SECRET, create_request, create_user
from tests.test_deploy import local_nginx_conf, nginx_binary

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def fetch(url: str, method: str = "GET", *, form: dict | None = None, cookie: str | None = None,
          headers: dict | None = None) -> tuple[int, dict[str, str], str]:
    """One request, no redirect followed: (status, headers, body). HTTPS without checking the (self-signed)
    certificate."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=15,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    sent = dict(headers or {})
    body = None
    if cookie:
        sent["Cookie"] = cookie
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def wait_until_answers(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode})")
        try:
            if fetch(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


@contextmanager
def gunicorn(port: int, log: Path, env: dict[str, str], *args: str):
    """gunicorn with gunicorn.conf.py, as `make run` starts it (command-line options win over the file)."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", *args, "wsgi:app"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/health/live", process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(45)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_gunicorn_serves_reloads_and_stops_gracefully(tmp_path, sqlite_template):
    database = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, database)
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = {"PORTAL_ENV": "development", "DATABASE_URL": f"sqlite:///{database}", "PORTAL_INSTANCE_DIR": str(tmp_path)}
    with gunicorn(port, log, env, "--workers", "2", "--threads", "2", "--access-logfile", "-") as process:
        base = f"http://127.0.0.1:{port}"
        status, headers, body = fetch(f"{base}/health/ready")
        assert status == 200 and '"ready"' in body and "x-request-id" in headers
        for _ in range(5):
            assert fetch(f"{base}/health/live")[0] == 200
        assert fetch(f"{base}/accessibility?from=test")[0] == 200
        checked = subprocess.run([sys.executable, str(ROOT / "deploy/healthcheck.py")], capture_output=True,
                                 env={**os.environ, "PORTAL_BIND": f"127.0.0.1:{port}"}, timeout=30)
        assert checked.returncode == 0, checked.stderr

        process.send_signal(signal.SIGHUP)  # graceful reload: new workers, the same listening socket
        deadline = time.monotonic() + 60
        while log.read_text().count("Booting worker") < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.read_text().count("Booting worker") >= 4, "the reload started new workers"
        # The listening socket stayed open: the new workers answer once they have loaded the app (on a busy
        # host that can take longer than one request's timeout, so keep asking).
        wait_until_answers(f"{base}/health/live", process)

        process.send_signal(signal.SIGTERM)
        assert process.wait(40) == 0, "a graceful stop exits 0"
    text = log.read_text()
    assert '"GET /accessibility HTTP/1.1" 200' in text, "the access log has the visitor's page"
    assert "from=test" not in text, "without its query string"
    assert "/health/" not in text, "and no successful health check"
    assert "Traceback" not in text
    down = subprocess.run([sys.executable, str(ROOT / "deploy/healthcheck.py")], capture_output=True, text=True,
                          env={**os.environ, "PORTAL_BIND": f"127.0.0.1:{port}"}, timeout=30)
    assert down.returncode == 1 and "URLError" in down.stderr


def test_gunicorn_refuses_to_start_in_production_without_a_strong_secret_key(tmp_path):
    """gunicorn itself stops, exit status 2 with the reason, before it listens: not a worker failing to boot and
    being replaced for ever."""
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    for secret in (None, "short"):
        run_env = {**env, "PORTAL_ENV": "production", "PYTHONPATH": str(ROOT),
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
        if secret:
            run_env["SECRET_KEY"] = secret
        result = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
                                cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert "The portal will not start: SECRET_KEY" in result.stderr
        assert "Booting worker" not in result.stderr and "Traceback" not in result.stderr


class Browser:
    """Just enough of a browser: one cookie jar entry (the session cookie) and the Referer a form post sends."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}

    def _remember(self, headers: dict) -> None:
        cookie = headers.get("set-cookie")
        if cookie:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name] = value

    def get(self, path: str) -> tuple[int, dict, str]:
        status, headers, body = fetch(self.base + path, cookie=self._cookie())
        self._remember(headers)
        return status, headers, body

    def post(self, path: str, form: dict) -> tuple[int, dict, str]:
        status, headers, body = fetch(self.base + path, "POST", form=form, cookie=self._cookie(),
                                      headers={"Referer": self.base + path})
        self._remember(headers)
        return status, headers, body

    def _cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def _token(body: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', body)
    return match.group(1)


@postgres_only
def test_two_hosts_behind_nginx_share_sessions_and_survive_one_stopping(database_url, db_session, tmp_path):
    binary = nginx_binary()
    require(binary is not None, "nginx is not installed (Debian's nginx, or PORTAL_NGINX: an nginx binary)")
    officer = create_user("officer", email="olive.officer@example.test")
    create_request(officer, first_name="Amara", last_name="Okafor")
    env = {"PORTAL_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
           "PORTAL_TRUSTED_PROXY_COUNT": "1", "PORTAL_ARGON2_TIME_COST": "1", "PORTAL_ARGON2_MEMORY_KIB": "1024",
           "PORTAL_ARGON2_PARALLELISM": "1"}
    port_a, port_b, https, plain, status_port = (free_port() for _ in range(5))
    conf = local_nginx_conf(binary, tmp_path, {"app1:8000": f"127.0.0.1:{port_a}", "app2:8000": f"127.0.0.1:{port_b}"},
                            https_port=https, http_port=plain, status_port=status_port)
    with ExitStack() as stack:
        host_a = stack.enter_context(gunicorn(port_a, tmp_path / "a.log", env, "--workers", "1", "--threads", "2"))
        stack.enter_context(gunicorn(port_b, tmp_path / "b.log", env, "--workers", "1", "--threads", "2"))
        proxy = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(lambda: (proxy.terminate(), proxy.wait(10)))
        base = f"https://127.0.0.1:{https}"
        wait_until_answers(f"{base}/health/ready", proxy, 30)
        assert fetch(f"http://127.0.0.1:{plain}/sign-in")[:2][0] == 301
        assert fetch(f"http://127.0.0.1:{status_port}/ready")[0] == 200

        browser = Browser(base)
        status, _headers, body = browser.get("/sign-in")
        assert status == 200
        status, headers, _ = browser.post("/sign-in", {"email": officer.email, "password": "password",
                                                       "csrf_token": _token(body)})
        assert status == 302 and headers["location"].endswith("/sign-in/security-code"), status
        assert list(browser.cookies) == ["__Host-portal_session"], "the production cookie, over HTTPS"
        status, _headers, body = browser.get("/sign-in/security-code")
        code = totp_code(TEST_MFA_SECRET, fresh=True, key=officer.email)
        status, headers, _ = browser.post("/sign-in/security-code", {"code": code, "csrf_token": _token(body)})
        assert status == 302, status
        pages = [browser.get("/requests/") for _ in range(6)]
        assert [page[0] for page in pages] == [200] * 6, "signed in on both hosts"
        assert all("Amara Okafor" in page[2] for page in pages)

        access = (tmp_path / "access.log").read_text()
        used = set(re.findall(r'"GET /requests/ HTTP/[\d.]+" 200 .* upstream=127\.0\.0\.1:(\d+)', access))
        assert used == {str(port_a), str(port_b)}, "the proxy spread the pages over both hosts"
        assert "/health/" not in access and "csrf_token" not in access

        host_a.terminate()  # one host goes away (a deploy, a crash): the other serves
        host_a.wait(45)
        after = [browser.get("/requests/")[0] for _ in range(6)]
        assert after == [200] * 6
        assert fetch(f"{base}/health/ready")[0] == 200
    for log in ("a.log", "b.log"):
        text = (tmp_path / log).read_text()
        assert "Amara" not in text and "Okafor" not in text and "Traceback" not in text
