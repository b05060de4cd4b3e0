"""`make run`'s supervisor (scripts/serve.py) with real processes: gunicorn and the notifications worker start
together, an email asked for through the served portal reaches the mail viewer, and Ctrl+C stops both."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port
from tests.test_serving import fetch, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent.parent


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(line) for line in out.split()}


def test_make_run_serves_with_the_worker_and_stops_both(tmp_path, sqlite_template):
    database = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORTAL_ENV": "development", "FLASK_APP": "wsgi:app",
           "DATABASE_URL": f"sqlite:///{database}", "PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_BASE_URL": base,
           "PORTAL_NOTIFICATIONS_POLL_SECONDS": "1"}
    for name in ("SMTP_HOST", "NOTIFY_API_KEY"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-c", (
        "from portal import create_app; from portal.db import db; from portal.models import User;"
        "app = create_app();"
        "ctx = app.app_context(); ctx.push();"
        "db.session.add(User(email='olu@example.test', name='Olu', role='admin', password_hash='x'));"
        "db.session.commit()")], cwd=ROOT, env=env, check=True, timeout=60)
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "scripts/serve.py", "--", "-c", "gunicorn.conf.py", "--bind",
                                    f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_answers(f"{base}/health/live", process)
        assert len(_children(process.pid)) == 2, "gunicorn and the worker"
        # "Forgot your password?" as a browser sends it: the form page's session cookie and CSRF token.
        status, headers, page = fetch(f"{base}/forgot-password")
        assert status == 200
        cookie = headers.get("set-cookie", "").split(";")[0]
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _, answer = fetch(f"{base}/forgot-password", "POST", cookie=cookie,
                                  form={"csrf_token": csrf, "email": "olu@example.test"})
        assert status == 200 and "Check your email" in answer
        deadline, viewer = time.monotonic() + 30, ""
        while time.monotonic() < deadline and "olu@example.test" not in viewer:
            time.sleep(0.5)
            viewer = fetch(f"{base}/development/mail")[2]
        assert "Reset your password for the West Midlands placement portal" in viewer
        assert f"{base}/reset-password/" in viewer  # the link, made from PORTAL_BASE_URL
        children = _children(process.pid)
        process.send_signal(signal.SIGINT)  # Ctrl+C
        assert process.wait(45) == 0
        time.sleep(0.5)
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "both stopped"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text()
