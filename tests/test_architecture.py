"""The architecture stays visible: dependencies inward, no cycles, pure core, thin views, protected views,
services that never commit, one unit of work.

The dependency rules are derived from one declared table, `ALLOWED`: each unit of `portal/` (a package, or a
module at the top of the package) and the units it may import. Every import counts, lazy ones inside functions and
`if TYPE_CHECKING:` blocks included. README's architecture section shows the same table.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "portal"

# What every feature may use: the inward pieces. A feature never imports another feature (not even its models,
# which live in portal.models for that reason), so no feature reaches into another's views, forms, services,
# queries or glue.
INWARD = {"access", "auth", "config", "db", "errors", "extensions", "formatting", "forms", "geo", "listing",
          "matching", "models", "notifications", "options", "placement_records", "unit_of_work"}
FEATURES = {"admin", "allocation", "market", "placements", "providers", "requests"}
ALLOWED: dict[str, set[str]] = {
    # the pure core and pure geography: no portal import but geo (portal.matching loads portal.geo lazily)
    "geo": set(),
    "matching": {"geo"},
    # plumbing
    "config": set(),
    "extensions": set(),
    "headers": set(),
    # the accessibility statement, privacy notice and cookies page: plain pages that name the 14 LAs
    "public": {"geo"},
    "logs": set(),
    # /health/live and /health/ready: the database and its Alembic revision, nothing else
    "health": {"config", "db"},
    # `flask db backup` / `restore`: SQLite's backup API, pg_dump and pg_restore
    "backups": {"db", "health"},
    "db": {"config"},
    "errors": {"db", "logs"},
    "models": {"db"},
    # one-time form keys: the unit of work records them (issue 16 §2); forms draw them
    "idempotency": {"db", "errors", "models"},
    "unit_of_work": {"db", "errors", "idempotency", "models"},
    "forms": {"geo", "idempotency"},
    "listing": {"db"},
    # `flask retention prune`: deletes old sign-in attempts, dead sessions and used form keys
    "retention": {"db", "models"},
    "formatting": {"geo", "matching", "models"},
    # shared below the features
    "access": {"auth", "db", "errors", "models"},
    "options": {"db", "geo", "matching", "models"},
    # the outbox, its senders and worker (issue 17): below auth, which queues the security messages
    "notifications": {"config", "db", "errors", "formatting", "listing", "models", "unit_of_work"},
    "auth": {"db", "errors", "extensions", "forms", "formatting", "listing", "models", "notifications",
             "unit_of_work"},
    "placement_records": {"auth", "db", "errors", "geo", "matching", "models"},
    # the features: only inward pieces
    **{feature: set(INWARD) for feature in FEATURES},
    # on top: the command-line plumbing, the demo loader and the app factory
    "cli": {"backups", "config", "db"},
    "demo": INWARD | FEATURES,
    # the integration API (issue 14): on top of the features, whose queries and services it reuses
    "api": INWARD | FEATURES,
    "__init__": INWARD | FEATURES | {"api", "backups", "cli", "demo", "headers", "health", "idempotency", "logs", "public",
                              "retention"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the portal modules it imports, every import statement anywhere in the file included."""
    modules = {_module_name(path): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
                if base.split(".")[0] != "portal":
                    continue
                # `from portal import geo` and `from portal.requests import queries` import modules
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.split(".")[0] == "portal"]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != module:
                    graph[module].add(target)
    return graph


def refused_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from one unit to another that ALLOWED does not declare."""
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            source_unit, target_unit = _unit(module), _unit(target)
            if source_unit != target_unit and target_unit not in ALLOWED.get(source_unit, set()):
                out.append(f"{module} -> {target}")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    nodes = set(graph) | {t for targets in graph.values() for t in targets}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def unit_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            if _unit(module) != _unit(target):
                units[_unit(module)].add(_unit(target))
    return units


def test_every_unit_of_the_package_is_declared():
    """A new package or top-level module needs its line in ALLOWED (and in README's table)."""
    units = {_unit(module) for module in import_graph()}
    assert units - set(ALLOWED) == set(), "declare these in ALLOWED"


def test_no_import_outside_the_declared_dependencies():
    assert refused_imports(import_graph()) == []


def test_no_import_cycle_between_modules_or_packages():
    graph = import_graph()
    assert cycles(graph) == [], "modules import each other"
    assert cycles(unit_graph(graph)) == [], "packages import each other"


@pytest.mark.parametrize("edge", [
    # Reach-ins and two-way arrows the rules exist to stop: each one was in the code once, lazy ones included.
    ("portal.providers.queries", "portal.requests.matching"),
    ("portal.requests.matching", "portal.providers.queries"),
    ("portal.requests.services", "portal.placements.services"),
    ("portal.requests.services", "portal.providers.queries"),
    ("portal.requests.views", "portal.providers.queries"),
    ("portal.providers.views", "portal.requests.services"),
    ("portal.providers.services", "portal.requests.services"),
    ("portal.admin.views", "portal.providers.queries"),
    ("portal.admin.services", "portal.providers.queries"),
    ("portal.admin.services", "portal.requests.services"),
    ("portal.market.gaps", "portal.requests.matching"),
    ("portal.allocation.services", "portal.requests.matching"),
    ("portal.auth.models", "portal.providers.models"),
    ("portal.market.queries", "portal.allocation.models"),
    ("portal.placements.queries", "portal.requests.models"),
    ("portal.formatting", "portal.requests.models"),
    ("portal.models", "portal.options"),
    ("portal.options", "portal.requests.models"),
    ("portal.matching.rank", "portal.db"),
], ids=lambda edge: "->".join(edge) if isinstance(edge, tuple) else edge)
def test_the_rules_refuse_a_reach_in(edge):
    source, target = edge
    assert refused_imports({source: {target}}) == [f"{source} -> {target}"]


def test_the_cycle_check_finds_a_cycle():
    graph = {"portal.auth.models": {"portal.providers.models"}, "portal.providers.models": {"portal.auth.models"}}
    assert cycles(graph) == [["portal.auth.models", "portal.providers.models"]]
    assert cycles(unit_graph({"portal.requests.services": {"portal.placements.services"},
                              "portal.placements.queries": {"portal.requests.queries"}})) == [["placements", "requests"]]


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


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/views.py")) + sorted(ROOT.glob("*/cli.py")), ids=str)
def test_views_and_commands_write_only_through_the_unit_of_work(path):
    """No view or command writes its own try / except / rollback / commit: `with unit_of_work(form)` does."""
    assert not [c for c in _calls(path) if c.endswith((".commit", ".rollback"))], f"{path} commits or rolls back"


@pytest.mark.parametrize("path", sorted(p for p in ROOT.rglob("*.py") if "matching" not in p.parts), ids=str)
def test_checks_raise_never_assert(path):
    """`assert` vanishes under `python -O`: a scope check must raise NotFound, never assert (a 404, not a 500)."""
    tree = ast.parse(path.read_text())
    assert not [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)], path


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
    """Every endpoint except sign-in, the start page, the public pages and static files checks the user's role."""
    # New providers register, and invited people set their password (with a one-time token), before signing in;
    # the accessibility statement, privacy notice and cookies page are for everyone (and marked public).
    # The health checks are for the proxy and the container engine (portal.health).
    marked = {"providers.register", "providers.set_password", "public.accessibility", "public.privacy",
              "public.cookies", "health.live", "health.ready", "notifications.mail_viewer",
              "api_docs.openapi_json", "api_docs.reference"}
    # Signing in takes three steps before the role is known (password, then the code or the app's set-up), and a
    # signed-out page explains why a session ended; a reset link works without signing in.
    public = {"static", "auth.index", "auth.sign_in", "auth.security_code", "auth.recovery_code", "auth.set_up_mfa",
              "auth.signed_out", "auth.reset_password", "auth.forgot_password"} | marked
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        view = app.view_functions[rule.endpoint]
        # The integration API's views check a bearer token's scope instead (portal.api.auth.scope_required).
        assert getattr(view, "required_roles", None) or getattr(view, "required_scopes", None) \
            or rule.endpoint == "auth.sign_out", rule.endpoint
    for endpoint in marked:  # an endpoint let through here says so in its own code too
        assert getattr(app.view_functions[endpoint], "public", False) is True, endpoint


def test_every_form_refuses_control_characters():
    """Every form of the portal derives from `portal.forms.PortalForm`, which refuses control characters in every
    field (issue 15 §7): no module builds a bare Flask-WTF form, and every form class the app defines is one."""
    import importlib

    from flask_wtf import FlaskForm

    from portal.forms import PortalForm

    bare = [str(path.relative_to(ROOT.parent)) for path in ROOT.rglob("*.py")
            if path.name != "forms.py" or path.parent != ROOT
            if "FlaskForm" in path.read_text()]
    assert bare == [], "use portal.forms.PortalForm instead of flask_wtf.FlaskForm"
    for path in ROOT.rglob("forms.py"):
        importlib.import_module(_module_name(path))

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    portal_forms = [cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("portal.")]
    assert len(portal_forms) > 25, "the forms were found"
    assert [cls.__qualname__ for cls in portal_forms if not issubclass(cls, PortalForm) and cls is not PortalForm] == []
