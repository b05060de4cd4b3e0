"""WSGI entry point: gunicorn wsgi:app"""

from portal import create_app, geo

app = create_app()
# Warm the West Midlands postcode tables once per process (about 0.25 s) so no visitor waits for the first lookup.
geo.preload()
