"""Flask extensions, created once and bound in create_app (the flaskr pattern)."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
# Sessions are checked against their server-side record on every request (portal.auth.sessions), not by
# Flask-Login's cookie-only protection.
login_manager.session_protection = None

csrf = CSRFProtect()
