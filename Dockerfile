# The portal's production image: gunicorn serving wsgi:app (gunicorn.conf.py) as a non-root user.
#
#   docker build -t wm-placement-portal .        (deploy/compose.yaml builds it too)
#
# Nothing secret is in the image: SECRET_KEY, DATABASE_URL and every other setting come from the environment when
# the container starts (docs/operations.md; the portal refuses to start in production without a strong SECRET_KEY).
# The same image runs the web service (the default command), the one-off migration (`flask db upgrade`) and the
# jobs service (`sh deploy/jobs.sh`).

# Debian 12 (bookworm) pinned, so the PostgreSQL client tools below are a known major version (15): pg_dump must be
# the server's major version or newer (deploy/compose.yaml runs PostgreSQL 15).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# pg_dump and pg_restore for `flask db backup` / `flask db restore`; nothing else from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# The runtime dependencies only (pyproject.toml's [project] dependencies, pinned by constraints.txt): no test or
# development packages. Installed before the code is copied, so a code change does not reinstall them.
WORKDIR /app
COPY pyproject.toml constraints.txt ./
RUN python -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-compile -r /tmp/requirements.txt -c constraints.txt \
    && rm /tmp/requirements.txt

# The portal runs from its source tree (templates/, migrations/ and alembic.ini sit beside portal/), owned by root
# and read-only to the user that runs it; compiled once here.
COPY wsgi.py gunicorn.conf.py alembic.ini ./
COPY portal ./portal
COPY templates ./templates
COPY migrations ./migrations
COPY deploy/healthcheck.py deploy/jobs.sh ./deploy/
RUN python -m compileall -q /app /opt/venv

# A system user with a fixed numeric id (so an orchestrator can check it is not root), and the only folders it may
# write: /data for a single-host SQLite database, /backups for the jobs service's backups.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal \
    && mkdir -p /data /backups \
    && chown portal:portal /data /backups \
    && chmod 700 /data /backups

ENV PYTHONPATH=/app \
    FLASK_APP=wsgi:app \
    PORTAL_ENV=production \
    PORTAL_BIND=0.0.0.0:8000 \
    PORTAL_WORKER_TMP_DIR=/dev/shm

USER 10001:10001
EXPOSE 8000

# The process answers (not the database: /health/ready is for the proxy and the orchestrator).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/deploy/healthcheck.py"]

# gunicorn stops gracefully on SIGTERM (the container engine's stop signal), within graceful_timeout.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
