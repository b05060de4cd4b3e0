"""gunicorn settings, for `make run` and for production (the Dockerfile): `gunicorn -c gunicorn.conf.py wsgi:app`.

Every setting has an environment override (docs/operations.md lists them); options given on the command line win
over both (`make run` passes --bind, --workers and --threads).

Process model. Each worker is one process with its own SQLAlchemy pool and its own in-memory matching index (rebuilt
when the options version moves), so workers and hosts are stateless and interchangeable: sessions, sign-in counters
and job locks live in the database. A worker serves `threads` requests at once (gthread); a ranking runs in about
ten milliseconds and holds no lock, so a few threads per worker keep the CPU busy while others wait on the database.
"""

import os

from portal.logs import ACCESS_LOG_FORMAT, GUNICORN_LOGCONFIG


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen. In a container: 0.0.0.0:8000 (the Dockerfile sets it); on a developer's machine loopback only.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# Worker processes: about one per core for this CPU-light, database-bound app (each holds the matching index, tens
# of MB at the region's scale). WEB_CONCURRENCY is the name platforms commonly set.
workers = _env_int("PORTAL_WORKERS", _env_int("WEB_CONCURRENCY", 2))
worker_class = "gthread"
threads = _env_int("PORTAL_THREADS", 4)
# A worker silent for this long is killed and replaced. Page requests take milliseconds; the longest is the hub's
# allocation page, whose solver is capped at 10 s (the daily job runs in the jobs service, not here).
timeout = _env_int("PORTAL_WORKER_TIMEOUT", 60)
# Graceful stop and reload (SIGTERM, SIGHUP, or a container stopping): workers finish the requests they have for up
# to this long. Keep it below the container engine's stop grace period (compose's stop_grace_period: 45 s).
graceful_timeout = _env_int("PORTAL_GRACEFUL_TIMEOUT", 30)
# Seconds an idle kept-alive connection from the reverse proxy stays open. The proxy's own idle limit for its
# connections to the app must be shorter (deploy/nginx.conf: keepalive_timeout 4s in the upstream), so the proxy
# never reuses a connection gunicorn has just closed (a 502).
keepalive = _env_int("PORTAL_KEEPALIVE", 5)
# Each worker is replaced after about this many requests, at a random point within the jitter so the workers of
# one host (and hosts started together) do not all restart at once: a bound on any slow leak.
max_requests = _env_int("PORTAL_MAX_REQUESTS", 2000)
max_requests_jitter = _env_int("PORTAL_MAX_REQUESTS_JITTER", 200)
# Load the app in each worker (the default): a SIGHUP reload then picks up new code, and nothing the master opened
# is shared. PORTAL_PRELOAD_APP=1 loads it once in the master (less memory, a configuration error stops the master
# at once); post_fork below then drops the master's database connections in each worker.
preload_app = os.environ.get("PORTAL_PRELOAD_APP", "") == "1"
# The workers' heartbeat files: in a container, /dev/shm (memory) rather than an overlay file system, where a slow
# disk can make a healthy worker look silent (the Dockerfile sets it).
worker_tmp_dir = os.environ.get("PORTAL_WORKER_TMP_DIR") or None
# Request size limits in front of the app's own (the proxy has its own too).
limit_request_line = 8190
limit_request_fields = 100

# gunicorn's control socket (for `gunicornc`) is off: it defaults to one path per user's home, which two gunicorns
# on one machine would share, and a container's home is read-only. Signals do the same job (HUP, TERM, TTIN/TTOU).
# PORTAL_CONTROL_SOCKET=/path turns it on at that path.
control_socket_disable = not os.environ.get("PORTAL_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["PORTAL_CONTROL_SOCKET"]

# One logging configuration for gunicorn and the app (portal/logs.py): the request id on every line; the access
# log has the path without its query string, no referrer or user agent, and no successful health checks.
logconfig_dict = GUNICORN_LOGCONFIG
access_log_format = ACCESS_LOG_FORMAT
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-") or None


def on_starting(server):
    """Refuse to start at all, with the reason and exit status 2, when the settings are unsafe (production without a
    strong SECRET_KEY, an unknown PORTAL_ENV). Left to the workers, each would fail to boot and gunicorn would replace
    it for ever; checked here, gunicorn stops before it listens."""
    import sys
    from pathlib import Path

    from portal.config import PROJECT_ROOT, ConfigError, apply_mode_defaults, check_secrets, load_config

    config = load_config()
    apply_mode_defaults(config)
    if config["PORTAL_ENV"] == "development":
        return  # development makes its own key at the app's first start
    try:
        check_secrets(config, Path(PROJECT_ROOT / "instance"))
    except ConfigError as error:
        print(f"The portal will not start: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _portal_app(wsgi):
    """The Flask app inside a gunicorn callable (ProxyFix wraps `app.wsgi_app`, not the app itself)."""
    return wsgi if wsgi is not None and hasattr(wsgi, "extensions") else None


def dispose_inherited_engine(app) -> bool:
    """In a freshly forked worker, forget the database connections the app's pool inherited from the master
    without closing them (they are the master's sockets: closing or reusing them in a child breaks the master's and
    every sibling's). SQLAlchemy's advice for multiprocessing: `engine.dispose(close=False)`. Returns whether there
    was an engine to dispose."""
    engines = getattr(app, "extensions", {}).get("portal_db")
    if not engines:
        return False
    engines[0].dispose(close=False)
    return True


def post_fork(server, worker):
    """With preload_app the app (and its engine) was built in the master: each worker starts with a fresh pool."""
    app = _portal_app(getattr(server.app, "callable", None))
    if app is not None:
        dispose_inherited_engine(app)


def post_worker_init(worker):
    """Warm each worker once: the West Midlands postcode tables (about 0.25 s) and the matching index (about 1 s
    at the large scale), so no visitor waits for them on the first page.

    And turn on faulthandler: a worker that dies of a fatal signal (a segmentation fault in a C extension, an
    abort) writes every thread's Python stack to stderr, which is gunicorn's log, before it goes (issue 16 §3)."""
    import faulthandler
    import sys

    faulthandler.enable(file=sys.stderr, all_threads=True)
    from portal import geo
    from portal.options import current_options

    geo.preload()
    app = _portal_app(worker.wsgi)
    if app is None:
        return
    with app.app_context():
        try:
            current_options()
        except Exception:  # noqa: BLE001 - an empty database: the first page builds the index instead
            worker.log.warning("matching index not warmed at start-up (is the database migrated?)")
    # Everything loaded so far (modules, the app, the postcode tables, the first index) lives as long as the
    # worker: keep it out of the garbage collector's scans. Done here, once, before the worker's threads start;
    # never from a request thread, where a freeze would also catch other requests' objects.
    import gc

    gc.collect()
    gc.freeze()
