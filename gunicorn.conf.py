"""gunicorn settings for `make run` (command-line options given there win)."""

from portal.logs import ACCESS_LOG_FORMAT, GUNICORN_LOGCONFIG

# One logging configuration for gunicorn and the app (portal/logs.py): the request id on every line; the access
# log has the path without its query string, and no referrer or user agent.
logconfig_dict = GUNICORN_LOGCONFIG
access_log_format = ACCESS_LOG_FORMAT
accesslog = "-"


def post_worker_init(worker):
    """Warm each worker once: the West Midlands postcode tables (about 0.25 s) and the matching index (about 1 s
    at the large scale), so no visitor waits for them on the first page."""
    from portal import geo
    from portal.options import current_options

    geo.preload()
    app = worker.wsgi
    with app.app_context():
        try:
            current_options()
        except Exception:  # noqa: BLE001 - an empty database: the first page builds the index instead
            worker.log.warning("matching index not warmed at start-up (is the database migrated?)")
