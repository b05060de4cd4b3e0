"""The accessibility statement, the privacy notice and the cookies page: open to everyone, linked from the footer
of every page, and true about the portal (the cookies it sets, the pages its accessibility checks cover, the
small-number threshold it applies)."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from portal import create_app
from portal.geo import WM_LOCAL_AUTHORITIES
from portal.public.views import AXE_CHECKED_PAGES
from tests.conftest import TEST_PASSWORD_HASHING, AuthActions
from tests.factories import create_provider, create_user
from tests.pages import Page, get_page

PAGES = {"/accessibility": "Accessibility statement", "/privacy": "Privacy notice", "/cookies": "Cookies"}
FOOTER = {"Accessibility statement": "/accessibility", "Privacy notice": "/privacy", "Cookies": "/cookies"}


def _footer_links(page: Page) -> dict[str, str]:
    footer = page.find("footer")
    return {re.sub(r"\s+", " ", a.get_text()).strip(): a["href"] for a in footer.find_all("a")}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_open_to_anyone_not_signed_in(client, path):
    page = get_page(client, path)
    assert page.title == f"{PAGES[path]} – West Midlands placement portal"
    assert "Sign out" not in page.soup.get_text()


@pytest.mark.parametrize("role, provider_role", [
    ("officer", None), ("provider", "admin"), ("provider", "staff"), ("commissioner", None), ("admin", None),
])
def test_each_page_is_open_to_every_role_signed_in(client, auth, db_session, role, provider_role):
    provider = create_provider() if role == "provider" else None
    auth.sign_in(create_user(role, provider=provider, provider_role=provider_role))
    for path, title in PAGES.items():
        page = get_page(client, path)
        assert page.title == f"{title} – West Midlands placement portal"
        assert page.find(attrs={"data-testid": "sign-out"}) is not None, "still signed in, with the menu"


def test_regional_commissioner_without_an_la_sees_the_pages_too(client, auth, db_session):
    auth.sign_in(create_user("commissioner", la_code=None))
    for path in PAGES:
        get_page(client, path)


def test_the_footer_links_to_the_three_pages_on_every_kind_of_page(client, auth, db_session):
    expected = {text: href for text, href in FOOTER.items()}
    pages = [get_page(client, "/sign-in"), get_page(client, "/"), get_page(client, "/no-such-page", status=404),
             get_page(client, "/accessibility")]
    officer = create_user("officer")
    auth.sign_in(officer)
    pages += [get_page(client, "/requests/"), get_page(client, "/market/", status=403),
              get_page(client, "/requests/not-a-request", status=404)]
    for page in pages:
        links = _footer_links(page)
        assert {text: links.get(text) for text in expected} == expected, page.title


def test_a_refused_sign_in_page_keeps_the_footer(client, db_session):
    response = client.post("/sign-in", data={"email": "nobody@example.test", "password": "wrong"})
    assert response.status_code == 422
    assert _footer_links(Page(response.get_data(as_text=True)))["Privacy notice"] == "/privacy"


# --------------------------------------------------------------------------------------- accessibility statement


def test_the_statement_follows_the_model_statement(client):
    page = get_page(client, "/accessibility")
    assert page.h1 == "Accessibility statement for the West Midlands placement portal"
    for heading in ["How accessible this website is", "Feedback and contact information",
                    "Reporting accessibility problems with this website", "Enforcement procedure",
                    "Technical information about this website's accessibility", "Compliance status",
                    "Non-accessible content", "How we tested this website",
                    "Preparation of this accessibility statement"]:
        assert heading in page.headings
    assert page.testid("compliance-status") == ("This website is partially compliant with the Web Content "
                                                "Accessibility Guidelines version 2.2 AA standard, because it has "
                                                "not yet been fully tested: see the next section.")
    text = page.text
    assert "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018" in text
    assert "Equality and Human Rights Commission (EHRC)" in text
    assert "Equality Commission for Northern Ireland (ECNI)" in text
    assert page.testid("prepared") == "This statement was prepared on 2 December 2026. It was last reviewed on 2 December 2026."


def test_the_statement_says_what_is_not_yet_tested_and_what_was_fixed(client):
    page = get_page(client, "/accessibility")
    assert "have not yet had a specialist audit or tested with disabled users" in page.testid("non-compliances")
    fixed = page.testid("fixed")
    for criterion in ("4.1.3", "2.4.3", "2.2.1"):
        assert criterion in fixed


def test_the_statement_says_what_was_tested_and_what_was_not(client):
    page = get_page(client, "/accessibility")
    checked = [li.get_text(" ", strip=True) for li in page.find(attrs={"data-testid": "checked-pages"}).find_all("li")]
    assert checked == list(AXE_CHECKED_PAGES.values())
    assert "axe-core" in page.text and "WCAG 2.0, 2.1 and 2.2 A and AA" in page.text
    assert "We have not yet:" in page.text
    assert "tested it with screen readers" in page.text


def test_every_page_the_statement_names_is_checked_by_the_browser_tests_and_no_other():
    """The statement lists the axe-checked pages from AXE_CHECKED_PAGES; the browser tests name each check's page
    with `context=`. The two must agree, so the statement never claims a check that does not run (or misses one)."""
    sources = "\n".join(p.read_text() for p in (Path(__file__).parent.parent / "browser").glob("test_*.py"))
    contexts = set(re.findall(r'assert_no_axe_violations\([^)]*context="([^"]+)"', sources))
    assert contexts == set(AXE_CHECKED_PAGES)


# --------------------------------------------------------------------------------------------- privacy notice


def test_the_privacy_notice_names_the_joint_controllers_in_plain_words(client):
    page = get_page(client, "/privacy")
    assert "are joint controllers of the information in the portal" in page.testid("controllers")
    assert "decide together why and how it is used" in page.testid("controllers")
    names = [li.get_text(strip=True) for li in page.find(attrs={"data-testid": "local-authorities"}).find_all("li")]
    assert names == [la.name for la in WM_LOCAL_AUTHORITIES] and len(names) == 14


def test_the_privacy_notice_gives_the_lawful_basis_and_the_duties(client):
    page = get_page(client, "/privacy")
    assert "UK GDPR Article 6(1)(e)" in page.testid("lawful-basis")
    assert "Article 9(2)(g)" in page.testid("special-category")
    assert "Article 9(2)(h)" in page.testid("special-category")
    assert "Section 22C of the Children Act 1989" in page.text and "Section 22G" in page.text


def test_the_privacy_notice_says_who_sees_what(client):
    who = get_page(client, "/privacy").testid("who-sees")
    assert "see the records of the children of their own local authority only" in who
    assert "only anonymised: the child's age rather than their date of birth" in who
    assert "Only once the local authority accepts their offer" in who
    assert "Commissioners see totals only, never a child. Any number of children from 1 to 7 is hidden" in who
    assert "at least 8 children" in who


def test_the_privacy_notice_states_the_threshold_the_portal_applies(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "SUPPRESSION_THRESHOLD": 10, **TEST_PASSWORD_HASHING})
    try:
        who = Page(app.test_client().get("/privacy").get_data(as_text=True)).testid("who-sees")
    finally:
        app.extensions["portal_db"][0].dispose()
    assert "from 1 to 10 is hidden" in who


def test_the_privacy_notice_states_retention_for_the_dpo_to_confirm_rights_and_the_ico(client):
    page = get_page(client, "/privacy")
    assert "awaiting confirmation by the local authorities’ data protection officers" in page.testid("retention-to-confirm")
    retention = page.testid("retention")
    assert "75 years from the child's date of birth" in retention
    assert re.search(r"kept for \d+ years", retention)
    assert "subject access request" in page.testid("rights")
    assert "Information Commissioner's Office" in page.testid("ico") and "0303 123 1113" in page.testid("ico")
    assert page.links["Make a complaint on the ICO website"] == "https://ico.org.uk/make-a-complaint/"


# --------------------------------------------------------------------------------------------------- cookies


def _set_cookies(response) -> dict[str, str]:
    """Name -> the whole Set-Cookie header, for every cookie a response stores in the browser. A header that only
    deletes a cookie (an empty value that expired in 1970: Flask-Login clears its unused remember-me cookie at
    sign-out) stores nothing and is left out."""
    out = {}
    for header in response.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            if morsel.value == "" and ("1970" in morsel["expires"] or morsel["max-age"] == "0"):
                continue
            out[name] = header
    return out


def _listed(page: Page) -> list[str]:
    """The names of the cookies the cookies page lists."""
    return [node.get_text(strip=True) for node in page.select('[data-testid="cookie-name"]')]


@pytest.fixture
def csrf_app(database_url):
    """The portal with CSRF protection on, as in production: the token in the session is what sets the cookie
    before anyone signs in."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": True, **TEST_PASSWORD_HASHING})
    yield app
    app.extensions["portal_db"][0].dispose()


def test_the_cookies_page_lists_every_cookie_the_portal_sets(csrf_app):
    client = csrf_app.test_client()
    with csrf_app.app_context():
        officer = create_user("officer")
    seen: dict[str, str] = {}

    def get(path):
        response = client.get(path)
        seen.update(_set_cookies(response))
        return Page(response.get_data(as_text=True)).find("input", attrs={"name": "csrf_token"})["value"]

    def post(path, data):
        response = client.post(path, data=data)
        seen.update(_set_cookies(response))
        assert response.status_code == 302, (path, response.status_code)

    # As a person signs in, with every form's CSRF token: password, then the code from the authenticator app.
    post("/sign-in", {"email": officer.email, "password": "password", "csrf_token": get("/sign-in")})
    post("/sign-in/security-code", {"code": AuthActions.code_for(officer), "csrf_token": get("/sign-in/security-code")})
    post("/sign-out", {"csrf_token": get("/requests/")})
    get("/sign-in")

    cookies_page = Page(client.get("/cookies").get_data(as_text=True))
    listed = _listed(cookies_page)
    assert seen, "the session cookie is set"
    assert set(seen) <= set(listed), f"cookies set but not on the cookies page: {set(seen) - set(listed)}"
    assert set(listed) <= set(seen), "the page lists a cookie the portal never sets"
    for name, header in seen.items():  # what the page says about the cookie is what the header says
        assert "HttpOnly" in header and "SameSite=Lax" in header
        if name == "portal_device":  # "After 400 days"
            assert "Max-Age=34560000" in header
        else:
            assert "Expires=" not in header and "Max-Age=" not in header, "a browser-session cookie"


def test_the_cookies_page_says_only_strictly_necessary_cookies_and_no_banner(client):
    page = get_page(client, "/cookies")
    assert "uses only cookies that are strictly necessary" in page.testid("strictly-necessary")
    assert "so there is no cookie banner" in page.testid("strictly-necessary")
    assert _listed(page) == ["portal_session", "portal_device"]
    assert page.summary() == {
        "Name": "portal_session",
        "Purpose": "Keeps you signed in as you move from page to page (it holds a random code that names your sign-in on the "
        "portal's server), holds the security token that protects every form from being sent by another website, "
        "and carries one-off messages such as 'You have signed out'. It is set when you first open a page with a "
        "form, before you sign in.",
        "Expires": "When you close your browser",
    }
    assert page.testid("sign-in-limits") == (
        "Your sign-in itself is kept on the portal's server, not in the cookie. It ends when you sign out, after 30 "
        "minutes without activity, or 12 hours after you signed in, whichever comes first; once it has ended, the "
        "cookie (or a copy of it) no longer signs anyone in.")
    assert "They are sent only over a secure (HTTPS) connection" not in page.text  # development: plain HTTP
    assert page.soup.select(".govuk-cookie-banner") == []


def test_the_cookies_page_follows_the_cookie_settings(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "SESSION_COOKIE_NAME": "__Host-portal", "SESSION_COOKIE_SECURE": True, "SESSION_IDLE_MINUTES": 20,
                      **TEST_PASSWORD_HASHING})
    try:
        page = Page(app.test_client().get("/cookies").get_data(as_text=True))
    finally:
        app.extensions["portal_db"][0].dispose()
    assert _listed(page) == ["__Host-portal", "__Host-portal_device"]
    assert "They are sent only over a secure (HTTPS) connection" in page.text
    assert "after 20 minutes without activity" in page.testid("sign-in-limits")


def test_the_statement_names_the_sign_in_time_limit_the_portal_applies(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "SESSION_IDLE_MINUTES": 20, **TEST_PASSWORD_HASHING})
    try:
        items = Page(app.test_client().get("/accessibility").get_data(as_text=True)).testid("fixed")
    finally:
        app.extensions["portal_db"][0].dispose()
    assert "Your sign-in ends after 20 minutes without activity" in items
