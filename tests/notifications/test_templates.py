"""The templates: Notify's placeholder format, every field filled or refused, and docs/notifications.md true."""

from pathlib import Path

import pytest

from portal.notifications.templates import TEMPLATES, TemplateError, render

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "notifications.md"


def test_the_docs_show_every_template_as_it_is():
    text = DOCS.read_text()
    for template in TEMPLATES.values():
        assert f"### `{template.name}`" in text
        assert f"```\n{template.subject}\n```" in text and f"```\n{template.body}\n```" in text, template.name


def test_render_fills_every_field_and_refuses_a_missing_one():
    template = TEMPLATES["password_reset"]
    subject, body = render(template, {"minutes": "30", "link": "https://x.example/reset-password/t"})
    assert "((" not in subject + body and "30 minutes" in body and "https://x.example/reset-password/t" in body
    with pytest.raises(TemplateError, match="link"):
        render(template, {"minutes": "30"})


def test_security_messages_are_marked():
    assert {name for name, t in TEMPLATES.items() if t.security} == {"invitation", "password_reset", "mfa_reset", "new_sign_in"}
