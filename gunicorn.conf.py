"""gunicorn settings for `make run` (command-line options given there win)."""


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
