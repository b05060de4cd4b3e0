"""Automated accessibility checks in the browser tests: axe-core against the WCAG 2.0, 2.1 and 2.2 A and AA rules.

    assert_no_axe_violations(page, context="sign-in")

`context` names the page checked; the accessibility statement lists the checked pages from
`portal.public.views.AXE_CHECKED_PAGES`, and tests/public/ fails unless the two name the same pages.

How axe runs under the portal's Content-Security-Policy (nonce-based, no 'unsafe-inline', no 'unsafe-eval'):
axe-core's script is handed to Playwright's `page.evaluate`, which runs it through the DevTools protocol
(Runtime.evaluate) rather than as a page script, and the DevTools protocol is not subject to the page's CSP. No
<script> element is added, the policy is not bypassed or weakened for the context, and the journeys' check for
CSP console violations (conftest.py) stays on: it would fail the test if injecting axe were blocked.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from portal.public.views import AXE_CHECKED_PAGES

WCAG_A_AND_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Rules turned off, each with the reason it is a false positive here. None: every rule of the tags above runs.
DISABLED_RULES: dict[str, str] = {}

_axe = Axe()


def axe_violations(page) -> list[dict]:
    """The axe-core violations on the page as it is now (WCAG A and AA rules only)."""
    options = {"runOnly": {"type": "tag", "values": WCAG_A_AND_AA}, "resultTypes": ["violations"],
               "rules": {rule: {"enabled": False} for rule in DISABLED_RULES}}
    return _axe.run(page, options=options).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} – {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(' '.join(t) if isinstance(t, list) else t for t in node['target'])}")
    return "\n".join(lines)


def assert_no_axe_violations(page, *, context: str) -> None:
    """Fail, listing each rule's id, impact, help URL and the elements' selectors, if axe finds a WCAG A or AA
    violation on the page as it is now. `context` is the page's key in AXE_CHECKED_PAGES."""
    if context not in AXE_CHECKED_PAGES:
        raise AssertionError(f"{context!r} is not a page the accessibility statement lists (AXE_CHECKED_PAGES)")
    violations = axe_violations(page)
    if violations:
        raise AssertionError(f"axe-core found WCAG A/AA violations on {AXE_CHECKED_PAGES[context]} "
                             f"({page.url}):\n{describe(violations)}")
