"""The architecture stays visible: pure core, thin views, protected views, services that never commit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "portal"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            out.append(target)
    return out


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/services.py")) + sorted(ROOT.glob("*/queries.py")), ids=str)
def test_services_and_queries_never_commit(path):
    """Whoever starts the unit of work commits it, once: the view or CLI command (STYLE.md habit 2)."""
    assert not [c for c in _calls(path) if c.endswith(".commit")], f"{path} commits"


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/views.py")), ids=str)
def test_views_do_not_build_sql(path):
    """Views load through scoped queries in queries.py; no select()/update() in a view."""
    names = _imports(path)
    assert "sqlalchemy" not in names, f"{path} imports sqlalchemy"


def test_geo_is_pure():
    """portal.geo is used by the matching core, so it must not depend on the web or the database."""
    names = _imports(ROOT / "geo.py")
    for name in names:
        assert not name.split(".")[0] in {"flask", "sqlalchemy", "werkzeug", "wtforms"}, name
        assert not name.startswith("portal"), name


def test_every_view_requires_a_role(app):
    """Every endpoint except sign-in, the start page and static files checks the user's role."""
    # New providers register, and invited people set their password (with a one-time token), before signing in.
    public = {"static", "auth.index", "auth.sign_in", "providers.register", "providers.set_password"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "required_roles", None) or rule.endpoint == "auth.sign_out", rule.endpoint
