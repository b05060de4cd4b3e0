"""Names, not codes (issue 11 §5): the access log and the audit search name each organisation as people know
it, never "provider:<id>" or an ONS code."""

from __future__ import annotations

import csv
import io

from tests.factories import create_provider, create_referral, create_request, create_user


def test_the_access_log_and_the_audit_name_organisations(client, auth, db_session):
    officer = create_user("officer")
    provider = create_provider(name="Arden Fostering")
    provider_user = create_user("provider", provider=provider)
    req = create_request(officer)
    referral = create_referral(req, provider)
    auth.sign_in(provider_user)
    assert client.get(f"/provider/referrals/{referral.id}").status_code == 200
    auth.sign_out()
    auth.sign_in(officer)
    page = client.get(f"/requests/{req.id}/access").get_data(as_text=True)
    assert "Arden Fostering" in page and "Coventry" in page
    assert f"provider:{provider.id}" not in page and "la:E08000026" not in page and "E08000026" not in page
    auth.sign_out()

    auth.sign_in(create_user("admin", la_code=None))
    page = client.get("/admin/audit").get_data(as_text=True)
    table = page.split('<table', 1)[1]
    assert "Arden Fostering" in table and f"provider:{provider.id}" not in table and "la:E08000026" not in table
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    mine = [row for row in rows if row["organisation"] == f"provider:{provider.id}"]
    assert mine and all(row["organisation_name"] == "Arden Fostering" for row in mine)
