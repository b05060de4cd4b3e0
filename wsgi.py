"""WSGI entry point: gunicorn -c gunicorn.conf.py wsgi:app"""

import sys

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # a clear message and a non-zero exit, never a traceback (issue: secrets and modes)
    print(f"The portal will not start: {error}", file=sys.stderr)
    raise SystemExit(2) from None
