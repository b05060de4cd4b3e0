"""The benchmarks (`make bench`). They run the portal on this machine in development mode, whatever starts them:
production, the default elsewhere, needs a real SECRET_KEY."""

import os

os.environ.setdefault("PORTAL_ENV", "development")
