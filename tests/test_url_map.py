"""Walk the whole URL map: every route, every method, as every kind of user, on both databases (issue 15).

The world (tests/url_map_world.py) is a small region: Coventry's officer owns a searching child (referred to provider
A, with an offer, a brother and an aunt) and a child placed with provider A; Birmingham's officer and provider B are
the outsiders; there are commissioners (Coventry's and the region's) and an administrator. For each rule of
`app.url_map` the walk fills the URL's variables from that world (the owner's records) and checks, per actor:

- never a 5xx;
- anonymous: sent to sign in (or 401/403), except on the public pages (`PUBLIC`); the owner half-way through
  signing in (password given, no security code yet): sent to the security-code step, never let in;
- a role the view's `@role_required` does not allow (its `required_roles` / `required_provider_roles`): 403 or 404;
- an actor of another organisation on the owner's records (another LA's officer, another provider's users): 403
  or 404, never a page or a redirect into the record;
- the owner (and anyone else the role and the ownership table allow) gets a page (status < 400) for a GET;
- no response, whatever its status, holds a child's names or reference unless the actor may see that child
  (`World.secrets`);
- a refused POST changes nothing (every table's rows, the audit trail and sessions aside, before and after);
- a URL naming two records (a request and an offer, a request and a connected person) with a second record that
  is not the first one's (another LA's, or the owner's other child's): 404 for the owner too, nothing changed;
- no view is open to a role its area is not for (`ROLES_BY_BLUEPRINT`, a second opinion on `@role_required`), and
  provider staff never write.

POSTs that are allowed (with an empty form: CSRF is off in tests) may change data, so they run in their own world
(`test_allowed_posts_are_answered_not_refused`): never a 5xx, never refused, no marker.

The world is built once per database (module scope, in a database of its own) and each actor signs in once; the
walk itself is parametrised by endpoint so a failure names the route, and lists every actor it failed for.

How to extend it when routes are added
--------------------------------------
- A new URL variable: add one line to `VARIABLES`: how to fill it from the world, and whose record it is
  (`owners`: the organisations whose users may open it, "la" = Coventry's officers, "provider" = provider A's
  users; None when it is no organisation's record and the role alone decides). `<any(...)>` variables are filled
  with every value automatically. Until then `test_every_url_variable_can_be_filled` fails, naming the rule.
  Where the same name means another kind of record in one blueprint (a `user_id` on the hub's user pages is any
  user, not a provider's colleague), give that blueprint its own in `VARIABLES_BY_BLUEPRINT`.
- A URL naming two records (`/requests/<request_id>/offers/<offer_id>/...`): add a record that is not the first
  one's to `World.foreign` (tests/url_map_world.py); `test_a_record_named_beside_another_must_belong_to_it`
  fails, naming the route, until there is one.
- A new public page (no sign-in): add its endpoint to `PUBLIC` (and to tests/test_architecture.py's list).
- A POST that ends the user's own session (sign-out): add it to `OWN_SESSION_POSTS`, so it runs on a throwaway
  client signed in for that one request; one that ends all their sessions: `EVERY_SESSION_POSTS` (run last). An
  allowed request that sends a signed-in user to sign in is otherwise a failure.
- A view that answers an outsider with something other than 403/404 on purpose (and changes nothing):
  `OUTSIDER_STATUSES`, with the reason.
- A page whose GET legitimately answers something other than < 400 for an allowed user: `GET_STATUSES`.
- A new kind of user: add them to `ACTORS` / `ORGANISATION` in tests/url_map_world.py and create them there.
- A view behind a per-user permission as well as a role: set `required_permission` on it (the name of the User
  flag, as `market.views._extract_access_required` does); the walk refuses everyone without the flag, and the
  world's `data_officer` holds `extract_access`.
- New routes need nothing more than the above: their roles come from `@role_required`. A page for someone
  half-way through signing in (like the security-code step) is not behind `@role_required`: list it in `PUBLIC`.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import product
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from portal.cli import upgrade_database
from portal.db import db
from portal.models import UserSession, metadata
from portal.requests.sections import SECTIONS_BY_KEY
from tests.conftest import AuthActions, make_app, require
from tests.url_map_world import ACTORS, ORGANISATION, SIGN_IN_PAGE, World, build_world

# ------------------------------------------------------------------------------------------------ the mapping

# Pages anyone may open without signing in (as in tests/test_architecture.py), and signing out, which anyone may do
# (half-way through signing in, too).
PUBLIC = {"auth.index", "auth.sign_in", "auth.security_code", "auth.recovery_code", "auth.set_up_mfa",
          "auth.signed_out", "auth.reset_password", "auth.forgot_password", "auth.sign_out", "providers.register",
          "providers.set_password", "public.accessibility", "public.privacy", "public.cookies", "health.live",
          "health.ready", "notifications.mail_viewer", "api_docs.openapi_json", "api_docs.reference"}
NOT_WALKED = {"static"}
# POSTs that end the acting user's own session: run on a throwaway client, signed in for the one request. (Each
# account may sign in three times in a test: tests/conftest.totp_code. The walk signs each in at most three times.)
OWN_SESSION_POSTS = {"auth.sign_out"}
# POSTs that end every session of the acting user: the walk makes them last (POSTS_LAST), on the actor's own client.
EVERY_SESSION_POSTS = {"auth.sign_out_everywhere"}
# GET statuses other than "< 400" that an allowed user may get.
GET_STATUSES: dict[str, set[int]] = {
    # The comparison's CSV file names the scenarios in its query string; the walk gives none: a 400 page says so.
    "market.whatif_compare_csv": {400},
}
ALLOWED_GET = set(range(200, 400))
REFUSED = {403, 404}
# What an actor who is not the record's owner may get instead of 403/404, where the view says nothing either way.
# Ending another person's session (or one that does not exist) ends nothing and redirects to one's own account page,
# the same answer as for one's own: the snapshot proves nothing ended.
OUTSIDER_STATUSES: dict[str, set[int]] = {"auth.end_session": REFUSED | {302}}
# Allowed POSTs that end a record another route is walked at run after the rest: a new invite link or removing
# the invited colleague makes the set-password link (rightly) stop working; signing out everywhere ends the
# actor's client's session.
POSTS_LAST = ("providers.renew_invite", "providers.remove_user", *sorted(EVERY_SESSION_POSTS))


# A second opinion on `@role_required`: the roles each blueprint's pages may ever be open to (DESIGN.md §1). The walk
# takes each view's roles from its decorator; this catches a decorator that lets in a role the area is not for.
ROLES_BY_BLUEPRINT = {
    "auth": {"officer", "provider", "commissioner", "admin"},  # each user's own account and sign-in
    "requests": {"officer"},
    "placements": {"officer", "provider"},
    "providers": {"provider"},
    "market": {"commissioner", "admin"},  # aggregates only
    "admin": {"admin"},
    "allocation": {"admin"},
    "public": set(),  # the accessibility statement, privacy notice and cookies page: for everyone, no role
    "health": set(),  # /health/live and /health/ready: for the proxy and the container engine, no role
    "api": set(),  # the integration API: bearer tokens with scopes, never a session (tests/api)
    "api_docs": set(),
    "api_tokens": {"admin", "provider"},  # the hub's tokens for LA systems, a provider admin's for its own  # its OpenAPI document and reference page: for anyone
    "notifications": set(),  # the development mail viewer (development only): no role, like a local mail catcher
}


@dataclass(frozen=True)
class Variable:
    fill: Callable[["Walk", dict[str, str]], list[str]]  # (the walk, the values chosen so far) -> values to try
    # Whose record it is: organisations whose users may open it ("la": Coventry's officers, "provider": provider A's
    # users, "hub": the regional administrators), or one actor by name (a session is one person's). None: no one's
    # record, the role decides.
    owners: frozenset[str] | None


def _record(key: str, *owners: str) -> Variable:
    return Variable(lambda walk, _chosen: [walk.world.ids[key]], frozenset(owners))


VARIABLES: dict[str, Variable] = {
    "request_id": _record("request", "la"),
    "connected_person_id": _record("connected_person", "la"),
    "offer_id": _record("offer", "la", "provider"),  # the officer decides on it, provider A withdraws it
    "placement_id": _record("placement", "la", "provider"),
    "referral_id": _record("referral", "provider"),
    "setting_id": _record("setting", "provider"),
    "vacancy_id": _record("vacancy", "provider"),
    "user_id": _record("user", "provider", "hub"),  # a colleague provider A's admin invited; the hub manages all
    "session_id": _record("session", "officer"),
    "la_token_id": _record("la_token", "hub"),  # an LA system's API token: the hub's to manage
    "provider_token_id": _record("provider_token", "provider"),  # provider A's system's token  # the Coventry officer's other signed-in browser
    "provider_id": Variable(lambda walk, _chosen: [walk.world.ids["applicant"]], None),  # the hub's to decide
    "token": Variable(lambda walk, _chosen: [walk.world.invite_token], None),  # the link is the permission
    "key": Variable(lambda _walk, _chosen: list(SECTIONS_BY_KEY), None),  # every section of the request form
    "table": Variable(lambda walk, chosen: [walk.market_table(chosen["name"])], None),  # a table of that page
    "scenario_id": Variable(lambda walk, _chosen: [walk.world.ids["scenario"]], None),  # shared by commissioners
}
# Where a variable names a different kind of record in one blueprint, that blueprint's own meaning wins, e.g.
# "admin": {"user_id": Variable(lambda walk, _chosen: [walk.world.ids["user"]], None)} for the hub's user pages.
VARIABLES_BY_BLUEPRINT: dict[str, dict[str, Variable]] = {
    "auth": {"token": Variable(lambda walk, _chosen: [walk.world.reset_token], None),  # a password reset link
             "notification_id": _record("in_app_notification", "officer")},  # one's own in-app notification
    "admin": {"notification_id": Variable(lambda walk, _chosen: [walk.world.ids["dead_notification"]], None)},
}


def _variable(rule: Rule, name: str) -> Variable | None:
    blueprint = rule.endpoint.split(".")[0]
    return VARIABLES_BY_BLUEPRINT.get(blueprint, {}).get(name) or VARIABLES.get(name)


# ------------------------------------------------------------------------------------------------- the routes

@cache
def _rules() -> dict[str, list[Rule]]:
    """The URL map by endpoint, read once at collection (the walk's apps are built from the same code)."""
    app = make_app("sqlite://")
    try:
        rules: dict[str, list[Rule]] = {}
        for rule in app.url_map.iter_rules():
            if rule.endpoint not in NOT_WALKED:
                rules.setdefault(rule.endpoint, []).append(rule)
        return dict(sorted(rules.items()))
    finally:
        app.extensions["portal_db"][0].dispose()


def _methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _variables_in_order(rule: Rule) -> list[str]:
    return re.findall(r"<(?:[^<>:]+:)?(\w+)>", rule.rule)


def _unfillable(rule: Rule) -> list[str]:
    return [name for name in _variables_in_order(rule)
            if not isinstance(rule._converters[name], AnyConverter) and _variable(rule, name) is None]


def _paths(walk: "Walk", rule: Rule) -> list[str]:
    """Every path the rule is walked at: each owned record's id, each value of an `any(...)` choice."""
    assert not _unfillable(rule), f"{rule.rule}: add {_unfillable(rule)} to VARIABLES in tests/test_url_map.py"
    choices: list[dict[str, str]] = [{}]
    for name in _variables_in_order(rule):
        converter = rule._converters[name]
        expanded = []
        for chosen in choices:
            if isinstance(converter, AnyConverter):
                values = sorted(converter.items)
            else:
                values = _variable(rule, name).fill(walk, chosen)
            expanded += [{**chosen, name: value} for value in values]
        choices = expanded
    return [rule.build(values, append_unknown=False)[1] for values in choices]


def _owners(rule: Rule) -> frozenset[str] | None:
    """The organisations whose users may open every record the rule names (None: it names no record)."""
    owners = None
    for name in _variables_in_order(rule):
        variable = _variable(rule, name)
        if variable is not None and variable.owners is not None:
            owners = variable.owners if owners is None else owners & variable.owners
    return owners


def expectation(app, rule: Rule, actor: str, world: World) -> str:
    """What `actor` must get at `rule`: "public", "sign_in", "refused" (role), "outsider" (not their
    organisation's record) or "allowed"."""
    if rule.endpoint in PUBLIC:
        return "public"
    if actor in SIGN_IN_PAGE:
        return "sign_in"
    user = world.users[actor]
    view = app.view_functions[rule.endpoint]
    if getattr(view, "required_scopes", None):
        return "sign_in"  # the integration API: a signed-in browser is no token, so 401 (tokens: tests/api)
    roles = getattr(view, "required_roles", None)
    provider_roles = getattr(view, "required_provider_roles", None)
    if roles is not None and user.role not in roles:
        return "refused"
    if provider_roles is not None and user.role == "provider" and user.provider_role not in provider_roles:
        return "refused"
    # A per-user permission on top of the role (the data extract's `extract_access`, issue 15 §9).
    permission = getattr(view, "required_permission", None)
    if permission is not None and not getattr(user, permission):
        return "refused"
    owners = _owners(rule)
    if owners is not None and not {ORGANISATION[actor], actor} & owners:
        return "outsider"
    return "allowed"


# -------------------------------------------------------------------------------------------------- the walk

@dataclass
class Walk:
    app: object
    world: World
    clients: dict = field(default_factory=dict)
    _tables: dict = field(default_factory=dict)

    @classmethod
    def start(cls, app) -> "Walk":
        with app.app_context():
            world = build_world()
        walk = cls(app, world)
        for actor in ACTORS:
            walk.clients[actor] = walk.signed_in_client(actor)
        # The owner's other browser, whose session is the one /account/sessions/<session_id>/end is walked at.
        walk.clients["officer_elsewhere"] = walk.signed_in_client("officer")
        with app.app_context():
            world.ids["session"] = db.session.scalars(
                select(UserSession.id).where(UserSession.user_id == world.users["officer"].id)
                .order_by(UserSession.created_at.desc())).first()
        return walk

    def signed_in_client(self, actor: str):
        client = self.app.test_client()
        if actor == "officer_password_only":
            user = self.world.users[actor]
            response = client.post("/sign-in", data={"email": user.email, "password": "password"})
            assert response.headers.get("Location", "").endswith("/sign-in/security-code")
        elif actor != "anonymous":
            AuthActions(client).sign_in(self.world.users[actor])
        return client

    def open(self, actor: str, method: str, path: str, endpoint: str):
        client = self.signed_in_client(actor) if method == "POST" and endpoint in OWN_SESSION_POSTS \
            else self.clients[actor]
        return client.open(path, method=method, data={} if method == "POST" else None)

    def market_table(self, page: str) -> str:
        """The first table the market page offers as a CSV download (as the admin sees the page)."""
        if page not in self._tables:
            html = self.clients["admin"].get(f"/market/{page}").get_data(as_text=True)
            found = re.search(rf'/market/{page}/([\w-]+)\.csv', html)
            assert found, f"/market/{page} offers no table to download"
            self._tables[page] = found.group(1)
        return self._tables[page]


def check(walk: Walk, expect: str, actor: str, method: str, path: str, endpoint: str, response) -> list[str]:
    """Every way `response` breaks the rules for `actor` (empty if none)."""
    status = response.status_code
    where = f"{method} {path} as {actor} ({expect}): {status}"
    problems = []
    if status >= 500:
        problems.append(f"{where}: a server error")
    seen = response.get_data(as_text=True) + response.headers.get("Location", "")
    leaked = [marker for marker in walk.world.hidden_from(actor) if marker in seen]
    if leaked:
        problems.append(f"{where}: shows {leaked}, which {actor} may not see")
    location = urlsplit(response.headers.get("Location", "")).path
    if expect == "sign_in":
        if not (status == 302 and location == SIGN_IN_PAGE[actor] or status in (401, 403)):
            problems.append(f"{where}: should be sent to {SIGN_IN_PAGE.get(actor, 'a 401')}, went to {location or 'nowhere'}")
    elif expect in ("refused", "outsider"):
        if status not in (OUTSIDER_STATUSES.get(endpoint, REFUSED) if expect == "outsider" else REFUSED):
            problems.append(f"{where}: should be refused with 403 or 404")
    else:  # public or allowed
        if method == "GET" and status not in GET_STATUSES.get(endpoint, ALLOWED_GET):
            problems.append(f"{where}: should get the page")
        if method == "POST" and status in {401, 403, 404}:
            problems.append(f"{where}: an allowed POST was refused")
        if expect == "allowed" and location in ("/sign-in", "/signed-out") \
                and endpoint not in OWN_SESSION_POSTS | EVERY_SESSION_POSTS:
            problems.append(f"{where}: a signed-in user was sent to sign in (their session ended?)")
    return problems


# Tables whose rows a refused request may add to: the audit trail (refusals are audited) and sign-in attempts;
# columns every request or sign-in may touch.
NOT_DATA = {"audit_event", "sign_in_attempt", "alembic_version"}
SIGN_IN_COLUMNS = {"user_account": {"last_sign_in_at", "mfa_last_step", "updated_at"},
                   "user_session": {"last_seen_at"}}


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every data table (sign-in bookkeeping aside), to compare before and after refused POSTs."""
    with app.app_context():
        rows = {}
        for table in metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            columns = [c for c in table.columns if c.name not in SIGN_IN_COLUMNS.get(table.name, ())]
            rows[table.name] = sorted(repr(tuple(row)) for row in db.session.execute(select(*columns)))
    return rows


# ---------------------------------------------------------------------------------------------- the databases

@contextmanager
def own_database(kind: str, tmp_path_factory, sqlite_template: str):
    """A migrated, empty database for one module's world: a copy of the SQLite template, or a new PostgreSQL
    database (the suite's shared one is emptied by every function-scoped test)."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("url_map") / "portal.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return

    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    require(bool(base), "PostgreSQL tests need PORTAL_TEST_DATABASE_URL (see README: running the tests)")
    name = f"portal_test_walk_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def walk(request, tmp_path_factory, sqlite_template):
    """The world, built once per database, with every actor signed in on their own client."""
    with own_database(request.param, tmp_path_factory, sqlite_template) as url:
        app = make_app(url)
        try:
            yield Walk.start(app)
        finally:
            app.extensions["portal_db"][0].dispose()


# ------------------------------------------------------------------------------------------------- the tests

def test_every_url_variable_can_be_filled():
    """A new route with a variable the walk cannot fill fails here, naming it: the walk keeps itself complete."""
    missing = {rule.rule: _unfillable(rule) for rules in _rules().values() for rule in rules if _unfillable(rule)}
    assert not missing, f"add these URL variables to VARIABLES in tests/test_url_map.py: {missing}"
    used = {name for rules in _rules().values() for rule in rules for name in _variables_in_order(rule)}
    unused = set(VARIABLES) - used
    assert not unused, f"VARIABLES fills variables no route has any more: {unused}"


def test_the_walk_sees_the_whole_url_map():
    """The walk is parametrised from the URL map at collection, and covers every kind of route."""
    endpoints = set(_rules())
    assert {"requests.detail", "providers.referral", "placements.detail", "market.page", "admin.provider",
            "allocation.index", "auth.sign_in", "auth.sign_out"} <= endpoints
    assert not endpoints & NOT_WALKED


def test_no_view_is_open_to_a_role_its_area_is_not_for():
    """Every view's roles sit inside its blueprint's (ROLES_BY_BLUEPRINT), and provider staff only read: every
    POST open to provider users names the provider roles that may make it, and staff is not one of them."""
    app = make_app("sqlite://")
    problems = []
    for endpoint, rules in _rules().items():
        view = app.view_functions[endpoint]
        roles = set(getattr(view, "required_roles", None) or ())
        blueprint = endpoint.split(".")[0]
        if blueprint not in ROLES_BY_BLUEPRINT:
            problems.append(f"{endpoint}: add its blueprint to ROLES_BY_BLUEPRINT")
        elif not roles <= ROLES_BY_BLUEPRINT[blueprint]:
            problems.append(f"{endpoint} is open to {sorted(roles - ROLES_BY_BLUEPRINT[blueprint])}")
        writes = any("POST" in rule.methods for rule in rules)
        provider_roles = getattr(view, "required_provider_roles", None)
        own_account = blueprint == "auth"  # staff keep their own password, codes and sessions
        if writes and not own_account and "provider" in roles and (provider_roles is None or "staff" in provider_roles):
            problems.append(f"{endpoint} lets provider staff write")
    app.extensions["portal_db"][0].dispose()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("endpoint", list(_rules()))
def test_every_actor_gets_only_what_their_role_and_organisation_allow(walk, endpoint):
    """GET as every actor; POST as every actor who must be refused, and nothing changes."""
    problems, refused_posts = [], []
    for rule in _rules()[endpoint]:
        for path, actor in product(_paths(walk, rule), ACTORS):
            expect = expectation(walk.app, rule, actor, walk.world)
            for method in _methods(rule):
                if method == "POST":
                    if expect in ("sign_in", "refused", "outsider"):
                        refused_posts.append((expect, actor, path))
                    continue  # an allowed POST may change the world: test_allowed_posts_are_answered_not_refused
                response = walk.open(actor, method, path, endpoint)
                problems += check(walk, expect, actor, method, path, endpoint, response)
    if refused_posts:
        before = snapshot(walk.app)
        for expect, actor, path in refused_posts:
            response = walk.open(actor, "POST", path, endpoint)
            problems += check(walk, expect, actor, "POST", path, endpoint, response)
        after = snapshot(walk.app)
        changed = [name for name in before if before[name] != after[name]]
        if changed:
            problems.append(f"refused POSTs to {endpoint} changed the tables {changed}")
    assert not problems, "\n".join(problems)


def _owned_variables(rule: Rule) -> list[str]:
    return [name for name in _variables_in_order(rule)
            if _variable(rule, name) is not None and _variable(rule, name).owners is not None]


NESTED = [endpoint for endpoint, rules in _rules().items() if any(len(_owned_variables(r)) > 1 for r in rules)]


@pytest.mark.parametrize("endpoint", NESTED)
def test_a_record_named_beside_another_must_belong_to_it(walk, endpoint):
    """/requests/<the owner's child>/offers/<someone else's offer>/accept and the like: the owner gets 404 for a
    record that is not the named request's (another LA's, or the owner's other child's), and nothing changes."""
    problems, tried = [], 0
    before = snapshot(walk.app)
    for rule in _rules()[endpoint]:
        for name in _owned_variables(rule):
            for foreign in walk.world.foreign.get(name, ()):
                values = {n: _variable(rule, n).fill(walk, {})[0] for n in _variables_in_order(rule)}
                values[name] = foreign
                path = rule.build(values, append_unknown=False)[1]
                for actor, method in product(ACTORS, _methods(rule)):
                    if expectation(walk.app, rule, actor, walk.world) == "allowed":
                        tried += 1
                        response = walk.open(actor, method, path, endpoint)
                        problems += [f"{p} (with another record's {name})" for p in
                                     check(walk, "outsider", actor, method, path, endpoint, response)]
    assert tried, f"{endpoint}: add a record that is not the owner's to World.foreign (tests/url_map_world.py)"
    after = snapshot(walk.app)
    problems += [f"{endpoint} changed the table {name}" for name in before if before[name] != after[name]]
    assert not problems, "\n".join(problems)


def test_allowed_posts_are_answered_not_refused(app):
    """Every POST, with an empty form, as every actor allowed to make it, in a world of its own (these may
    change data): never a 5xx, never refused, and never a child the actor may not see."""
    walk = Walk.start(app)
    problems, posts = [], 0
    endpoints = sorted(_rules(), key=lambda e: POSTS_LAST.index(e) if e in POSTS_LAST else -1)
    for endpoint in endpoints:
        for rule in _rules()[endpoint]:
            if "POST" not in rule.methods:
                continue
            for path, actor in product(_paths(walk, rule), ACTORS):
                expect = expectation(app, rule, actor, walk.world)
                if expect in ("public", "allowed"):
                    posts += 1
                    response = walk.open(actor, "POST", path, endpoint)
                    problems += check(walk, expect, actor, "POST", path, endpoint, response)
    assert posts > 50  # the walk did reach the writing views
    assert not problems, "\n".join(problems)


def test_the_markers_are_real(walk):
    """The walk's privacy check looks for strings that really are on the pages of those allowed to see them."""
    ids = walk.world.ids
    pages = {
        "officer": [f"/requests/{ids['request']}", f"/requests/{ids['request']}/siblings",
                    f"/requests/{ids['request']}/connected-persons", f"/placements/{ids['placement']}"],
        "provider_staff": [f"/placements/{ids['placement']}"],
        "other_la_officer": ["/requests/", f"/requests/{ids['other_request']}/connected-persons"],
    }
    seen = {actor: "".join(walk.clients[actor].get(path).get_data(as_text=True) for path in paths)
            for actor, paths in pages.items()}
    for marker, viewers in walk.world.secrets.items():
        shown_to = [actor for actor in seen if actor in viewers and marker in seen[actor]]
        assert shown_to, f"{marker!r} is on none of its viewers' pages: the privacy check would prove nothing"
