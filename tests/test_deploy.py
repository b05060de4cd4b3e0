"""The deployment files (issue 16), checked without a container engine (none runs on the machines the suite runs
on): the Dockerfile's instructions, .dockerignore, deploy/compose.yaml parsed with PyYAML, deploy/nginx.conf (and
`nginx -t` where an nginx binary is at hand), gunicorn.conf.py read the way gunicorn reads it, the container's
health check and the jobs service's loop (with stand-ins for `flask` and `sleep`)."""

from __future__ import annotations

import fnmatch
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|DATABASE_URL|TOKEN|_KEY$")


# ----------------------------------------------------------------------------------------------- Dockerfile

def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += (" " if current else "") + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            word, _, rest = current.partition(" ")
            instructions.append((word.upper(), rest.strip()))
            current = ""
    return instructions


def _all(kind: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == kind]


def _exec_form(args: str) -> list[str]:
    return yaml.safe_load(args) if args.startswith("[") else shlex.split(args)


def test_the_image_is_python_3_11_slim_in_one_stage():
    froms = _all("FROM")
    assert len(froms) == 1 and froms[0].startswith("python:3.11-slim")


def test_the_image_runs_as_a_non_root_user_after_every_build_step():
    instructions = dockerfile()
    users = [i for i, (kind, _) in enumerate(instructions) if kind == "USER"]
    assert users, "the image names a user"
    last_user = users[-1]
    name = instructions[last_user][1].split(":")[0]
    assert name not in ("root", "0") and (not name.isdigit() or int(name) >= 1000)
    assert not [kind for kind, _ in instructions[last_user:] if kind in ("RUN", "COPY", "ADD")], \
        "nothing is installed or copied after switching to the user (nothing it could change at run time)"


def test_pip_installs_the_pinned_runtime_dependencies_only():
    runs = " ".join(_all("RUN"))
    pip = [part for part in runs.split("&&") if "pip install" in part]
    assert len(pip) == 1 and "-c constraints.txt" in pip[0]
    assert "[test]" not in runs and "optional-dependencies" not in runs and " -e " not in pip[0]
    for test_only in ("pytest", "playwright", "hypothesis", "beautifulsoup4", "pyyaml"):
        assert test_only not in runs.lower()
    # The requirement list is pyproject's [project] dependencies, and every one of them is pinned.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "['project']['dependencies']" in runs
    pinned = {re.split(r"==", line)[0].lower().replace("_", "-")
              for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement)[0].lower().replace("_", "-")
        assert name in pinned, f"{name} is not pinned in constraints.txt"


def test_the_command_is_gunicorn_with_its_config_file():
    command = _exec_form((_all("CMD") or _all("ENTRYPOINT"))[-1])
    assert command[0] == "gunicorn" and command[-1] == "wsgi:app"
    assert "gunicorn.conf.py" in command and ("--config" in command or "-c" in command)


def test_the_health_check_calls_the_live_endpoint():
    (check,) = _all("HEALTHCHECK")
    assert "--interval=" in check and "--timeout=" in check
    assert "/app/deploy/healthcheck.py" in check
    sys.path.insert(0, str(DEPLOY))
    try:
        import healthcheck
    finally:
        sys.path.remove(str(DEPLOY))
    env = dict(instruction.split("=", 1) for args in _all("ENV") for instruction in shlex.split(args) if "=" in instruction)
    assert healthcheck.live_url(env["PORTAL_BIND"]) == "http://127.0.0.1:8000/health/live"
    assert _all("EXPOSE") == ["8000"] and env["PORTAL_BIND"].endswith(":8000")
    assert env["PORTAL_ENV"] == "production"


def test_no_secret_is_baked_into_the_image():
    for args in _all("ENV") + _all("ARG"):
        for assignment in shlex.split(args):
            name = assignment.split("=", 1)[0]
            assert not SECRET_NAMES.search(name), f"{name} must come from the environment at run time"
    text = (ROOT / "Dockerfile").read_text()
    assert "SECRET_KEY=" not in text and "postgresql://" not in text and "postgresql+psycopg://" not in text


def test_everything_the_image_copies_exists_and_is_not_ignored():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    sources = []
    for args in _all("COPY"):
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        sources += parts[:-1]
    assert "portal" in sources and "migrations" in sources and "templates" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not [pattern for pattern in ignored if fnmatch.fnmatch(source, pattern)], source
    for must in (".git", ".venv", "instance", "tests", ".env", "*.sqlite3", "*.backup", "deploy/certs", "*.key"):
        assert must in ignored, f".dockerignore leaves {must} in the build context"


# -------------------------------------------------------------------------------------------- compose.yaml

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_the_services_of_a_deployment_past_one_host(compose):
    services = compose["services"]
    assert set(services) == {"db", "migrate", "app1", "app2", "jobs", "notifications", "proxy"}
    assert services["db"]["image"].startswith("postgres:")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])


def test_migrations_run_once_before_any_app_or_job(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["flask", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("app1", "app2", "jobs", "notifications"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["db"]["condition"] == "service_healthy", name


def test_two_app_services_of_one_image_behind_the_proxy(compose):
    services = compose["services"]
    app1, app2 = services["app1"], services["app2"]
    assert app1["image"] == app2["image"] == services["migrate"]["image"] == services["jobs"]["image"]
    assert app1["build"]["dockerfile"] == "Dockerfile" and (DEPLOY / app1["build"]["context"] / "Dockerfile").exists()
    for app in (app1, app2):
        assert "ports" not in app, "only the proxy is reachable from outside"
        assert app["healthcheck"]["test"][-1] == "/app/deploy/healthcheck.py"
        assert app["restart"] == "unless-stopped"
        assert "command" not in app, "the image's gunicorn command"
        assert "user" not in app, "the image's non-root user"
    proxy = services["proxy"]
    assert {port.split(":")[0] for port in proxy["ports"]} == {"80", "443"}
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["app1"]["condition"] == proxy["depends_on"]["app2"]["condition"] == "service_healthy"
    upstream = re.search(r"upstream portal \{(.*?)\}", (DEPLOY / "nginx.conf").read_text(), re.S).group(1)
    assert re.findall(r"server (\w+):(\d+)", upstream) == [("app1", "8000"), ("app2", "8000")]


def test_the_jobs_service_runs_the_daily_jobs(compose):
    jobs = compose["services"]["jobs"]
    assert jobs["command"] == ["sh", "/app/deploy/jobs.sh"]
    assert jobs["environment"]["PORTAL_BACKUP_DIR"] == "/backups"
    assert jobs["environment"]["SECRET_KEY"] == compose["services"]["app1"]["environment"]["SECRET_KEY"]
    assert "flask allocation run --once-per-day" in (DEPLOY / "jobs.sh").read_text()


def test_the_notifications_worker_sends_the_outbox(compose):
    worker = compose["services"]["notifications"]
    assert worker["command"] == ["flask", "notifications", "send"]
    assert worker["image"] == compose["services"]["app1"]["image"]
    assert worker["environment"]["SECRET_KEY"] == compose["services"]["app1"]["environment"]["SECRET_KEY"]
    assert "mail" in worker["networks"] and compose["networks"]["internal"]["internal"] is True
    for name in ("db", "app1", "app2", "jobs"):  # the only service with a route out
        assert "mail" not in compose["services"][name].get("networks", ["internal"]), name


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {})
        if name in ("migrate", "jobs", "notifications"):  # a one-off, and loops with no server to ask
            assert check == {"disable": True}, name
        else:
            assert check.get("test") and not check.get("disable"), name


def test_no_secret_literal_in_compose(compose):
    """Every secret is a ${VARIABLE:?message} reference: compose refuses to start without it, and has no
    default to fall back on."""
    seen = 0
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key):
                seen += 1
                references = re.findall(r"\$\{(\w+)(:?[?-])?", str(value))
                assert references, f"{name}.{key} is a literal"
                assert all(kind == ":?" for _var, kind in references), f"{name}.{key} has a default"
                literal = re.sub(r"\$\{[^}]*\}", "", str(value))
                if "://" in literal:  # a URL: its password is a reference, nothing else
                    assert not urlsplit(literal).password, f"{name}.{key} holds a password"
                else:
                    assert not literal.strip(), f"{name}.{key} is part literal: {literal!r}"
    assert seen >= 6
    text = (DEPLOY / "compose.yaml").read_text()
    assert not re.search(r"(?i)(password|secret)[^:\n]*:\s*['\"]?[A-Za-z0-9_-]{8,}\s*$", text, re.M)
    env_example = (DEPLOY / "env.example").read_text()
    assert re.findall(r"^(SECRET_KEY|POSTGRES_PASSWORD)=(.*)$", env_example, re.M) == [
        ("SECRET_KEY", ""), ("POSTGRES_PASSWORD", "")]


def test_the_graceful_stop_fits_in_the_stop_grace_period(compose):
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    grace = int(compose["services"]["app1"]["stop_grace_period"].removesuffix("s"))
    assert grace > config["graceful_timeout"]


# ---------------------------------------------------------------------------------------------- nginx.conf

def test_the_proxy_passes_the_client_and_logs_no_query_string():
    conf = (DEPLOY / "nginx.conf").read_text()
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    log_format = re.search(r"log_format portal (.*?);", conf, re.S).group(1)
    assert "$request " not in log_format and "$request_uri" not in log_format and "$args" not in log_format
    assert "$http_referer" not in log_format and "$http_user_agent" not in log_format
    assert int(re.search(r"keepalive_timeout (\d+)s;", conf).group(1)) < gunicorn["keepalive"]
    assert int(re.search(r"proxy_read_timeout (\d+)s;", conf).group(1)) > gunicorn["timeout"]
    assert int(re.search(r"client_max_body_size (\d+)m;", conf).group(1)) * 2**20 > 5 * 2**20
    health = re.search(r"location /health/ \{(.*?)\}", conf, re.S).group(1)
    assert "deny all;" in health


def nginx_binary() -> str | None:
    candidate = os.environ.get("PORTAL_NGINX")
    if candidate:
        return candidate if Path(candidate).is_file() else shutil.which(candidate)
    # Debian puts it in /usr/sbin, which a non-root PATH often lacks.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def test_nginx_accepts_the_configuration(tmp_path):
    """`nginx -t` on deploy/nginx.conf, with the compose hosts and certificate paths swapped for local ones."""
    binary = nginx_binary()
    require(binary is not None, "nginx is not installed (Debian's nginx, or PORTAL_NGINX: an nginx binary)")
    conf = local_nginx_conf(binary, tmp_path, {"app1:8000": "127.0.0.1:1", "app2:8000": "127.0.0.1:2"},
                            https_port=0, http_port=0, status_port=0)
    result = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", "stderr"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def local_nginx_conf(binary: str, folder: Path, hosts: dict[str, str], *, https_port: int, http_port: int,
                     status_port: int) -> Path:
    """deploy/nginx.conf made runnable here: upstream hosts, ports, a self-signed certificate, the mime types
    file, and (for an nginx older than 1.25.1) the older spelling of HTTP/2."""
    conf = (DEPLOY / "nginx.conf").read_text().replace("/tmp/", f"{folder}/")
    for compose_host, local in hosts.items():
        conf = conf.replace(f"server {compose_host} ", f"server {local} ")
    certs = folder / "certs"
    certs.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    conf = conf.replace("/etc/nginx/certs/", f"{certs}/")
    mime = next((p for p in (Path(binary).parent.parent.parent / "etc/nginx/mime.types", Path("/etc/nginx/mime.types"))
                 if p.exists()), None)
    conf = conf.replace("include /etc/nginx/mime.types;", f"include {mime};" if mime else "")
    version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    major_minor_patch = tuple(int(n) for n in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version).groups())
    if major_minor_patch < (1, 25, 1):
        conf = conf.replace("listen 8443 ssl default_server;\n        http2 on;", "listen 8443 ssl http2 default_server;")
    conf = conf.replace("listen 8443 ", f"listen 127.0.0.1:{https_port or 18443} ")
    conf = conf.replace("listen 8080 ", f"listen 127.0.0.1:{http_port or 18080} ")
    conf = conf.replace("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{status_port or 18081};")
    conf = conf.replace("access_log /dev/stdout portal", f"access_log {folder}/access.log portal")
    conf = conf.replace("error_log /dev/stderr warn;", f"error_log {folder}/error.log warn;")
    conf = "daemon off;\n" + conf
    path = folder / "nginx.conf"
    path.write_text(conf)
    return path


# ------------------------------------------------------------------------------------------ gunicorn.conf.py

GUNICORN_ENV = ("PORTAL_BIND", "PORTAL_WORKERS", "WEB_CONCURRENCY", "PORTAL_THREADS", "PORTAL_WORKER_TIMEOUT",
                "PORTAL_GRACEFUL_TIMEOUT", "PORTAL_KEEPALIVE", "PORTAL_MAX_REQUESTS", "PORTAL_MAX_REQUESTS_JITTER",
                "PORTAL_PRELOAD_APP", "PORTAL_WORKER_TMP_DIR", "PORTAL_ACCESS_LOG")


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_settings_and_their_defaults(monkeypatch):
    from gunicorn.config import Config

    settings = gunicorn_settings(monkeypatch)
    config = Config()
    for name, value in settings.items():
        if name.startswith("_") or name.isupper() or type(value).__name__ == "module":
            continue
        if callable(value) and name not in config.settings:
            continue  # a helper of the hooks
        assert name in config.settings, f"gunicorn has no setting {name!r} (a typo is silently ignored)"
        config.set(name, value)  # gunicorn's own validation
    assert config.worker_class_str == "gthread" and config.workers == 2 and config.threads == 4
    assert config.timeout == 60 and config.graceful_timeout == 30 and config.keepalive == 5
    assert config.max_requests == 2000 and 0 < config.max_requests_jitter < config.max_requests
    assert config.preload_app is False and config.bind == ["127.0.0.1:8000"]
    assert callable(settings["post_fork"]) and callable(settings["post_worker_init"])


def test_gunicorn_settings_follow_the_environment(monkeypatch):
    settings = gunicorn_settings(monkeypatch, PORTAL_BIND="0.0.0.0:9000", PORTAL_WORKERS="5", PORTAL_THREADS="8",
                                 PORTAL_WORKER_TIMEOUT="90", PORTAL_GRACEFUL_TIMEOUT="20", PORTAL_MAX_REQUESTS="500",
                                 PORTAL_MAX_REQUESTS_JITTER="50", PORTAL_PRELOAD_APP="1",
                                 PORTAL_WORKER_TMP_DIR="/dev/shm")
    assert (settings["bind"], settings["workers"], settings["threads"], settings["timeout"],
            settings["graceful_timeout"], settings["max_requests"], settings["max_requests_jitter"],
            settings["preload_app"], settings["worker_tmp_dir"]) == (
        "0.0.0.0:9000", 5, 8, 90, 20, 500, 50, True, "/dev/shm")
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_post_fork_drops_the_connections_a_preloaded_app_inherited(monkeypatch, tmp_path, sqlite_template):
    """With preload_app the master built the app, and its pool may hold connections: each worker forgets them
    without closing them (they are the master's), and opens its own."""
    from sqlalchemy import text

    from tests.conftest import make_app

    path = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    engine = app.extensions["portal_db"][0]
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    old_pool = engine.pool
    assert old_pool.checkedin() == 1
    inherited = old_pool._pool.queue[0].dbapi_connection  # type: ignore[attr-defined]
    settings = gunicorn_settings(monkeypatch)
    settings["post_fork"](SimpleNamespace(app=SimpleNamespace(callable=None)), None)  # not preloaded: nothing
    assert engine.pool is old_pool
    settings["post_fork"](SimpleNamespace(app=SimpleNamespace(callable=app)), None)
    assert engine.pool is not old_pool and engine.pool.checkedin() == 0
    assert inherited.execute("SELECT 1").fetchone() == (1,), "the inherited connection was not closed"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    inherited.close()
    engine.dispose()


# ------------------------------------------------------------------------------------------- deploy/jobs.sh

def run_jobs_script(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """deploy/jobs.sh for one round, with stand-ins: `flask` records its arguments (and makes the backup file it
    is asked for); `sleep` records how long it was asked to wait and fails, which ends the loop (set -e)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    (bin_dir / "flask").write_text(f'#!/bin/sh\necho "flask $*" >> {calls}\n'
                                   'if [ "$1 $2" = "db backup" ]; then echo backup > "$3"; fi\n')
    (bin_dir / "sleep").write_text(f'#!/bin/sh\necho "sleep $*" >> {calls}\nexit 1\n')
    for tool in ("flask", "sleep"):
        (bin_dir / tool).chmod(0o755)
    result = subprocess.run(["sh", str(DEPLOY / "jobs.sh")], capture_output=True, text=True, timeout=30,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env})
    lines = calls.read_text().splitlines() if calls.exists() else []
    calls.unlink(missing_ok=True)
    return result, lines


def test_the_jobs_loop_runs_the_allocation_and_pruning_then_waits_for_the_next_day(tmp_path):
    result, calls = run_jobs_script(tmp_path, PORTAL_JOBS_AT="02:00")
    assert calls[:4] == ["flask allocation run --once-per-day", "flask retention prune", "flask notifications remind",
                         "flask market whatif-run --queued"]
    assert calls[4].startswith("sleep ") and 0 < int(calls[4].split()[1]) <= 86400
    assert len(calls) == 5, "no backup without PORTAL_BACKUP_DIR"
    assert "daily jobs at 02:00 UTC" in result.stdout


def test_the_jobs_loop_backs_up_once_a_day_and_keeps_the_last_days(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "portal-20200101T020000Z.backup"
    old.write_text("old")
    os.utime(old, (0, 0))
    recent = backups / "portal-20991231T020000Z.backup"  # not today's name, and too new to delete
    recent.write_text("recent")
    env = {"PORTAL_JOBS_AT": "02:00", "PORTAL_BACKUP_DIR": str(backups), "PORTAL_BACKUP_KEEP_DAYS": "14"}
    result, calls = run_jobs_script(tmp_path, **env)
    assert calls[:4] == ["flask allocation run --once-per-day", "flask retention prune", "flask notifications remind",
                         "flask market whatif-run --queued"]
    assert re.fullmatch(rf"flask db backup {re.escape(str(backups))}/portal-\d{{8}}T\d{{6}}Z\.backup", calls[4])
    assert not old.exists() and recent.exists()
    assert f"deleted {old}" in result.stdout
    made = sorted(backups.glob("portal-*.backup"))
    assert len(made) == 2
    # Started again the same day (a restart): today's backup is there, so none is made.
    result, calls = run_jobs_script(tmp_path, **env)
    assert calls[3] == "flask market whatif-run --queued" and calls[4].startswith("sleep ") and len(calls) == 5
    assert "today's backup is already" in result.stdout
