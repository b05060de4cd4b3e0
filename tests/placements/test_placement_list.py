"""The placements list: an officer's LA's placements, newest first, current or ended; a provider's own."""

from tests.factories import create_provider, create_user
from tests.placements.placement_factories import create_offer_placement, date_fields, past


def test_officer_sees_their_las_placements_newest_first_with_status(client, auth, db_session):
    officer = create_user("officer", name="Olivia Officer")
    older = create_offer_placement(officer, first_name="Olderchild", start_date=past(20))
    newer = create_offer_placement(officer, provider=older.provider, provider_user=older.provider_user,
                                   first_name="Newerchild", start_date=past(2))
    other_provider = create_provider(name="Brook Homes")
    elsewhere = create_offer_placement(officer, provider=other_provider,
                                       provider_user=create_user("provider", provider=other_provider),
                                       first_name="Thirdchild", start_date=past(10))
    auth.sign_in(officer)
    client.post(f"/placements/{older.placement.id}/end", data={**date_fields("end_date", past(1)), "end_reason": "E4A"})
    page = client.get("/placements/").get_data(as_text=True)
    table = page.split('data-testid="placements-table"')[1]
    assert table.index("Newerchild") < table.index("Thirdchild") < table.index("Olderchild")
    assert "3 placements" in page and "Current" in table and f"Ended {past(1).day}" in table
    assert "Waiting for signatures" in table
    auth.sign_out()

    # The first provider sees its two placements, not the third.
    auth.sign_in(older.provider_user)
    page = client.get("/placements/").get_data(as_text=True)
    assert "Newerchild" in page and "Olderchild" in page and "Thirdchild" not in page
    assert "2 placements" in page
    assert f'/placements/{elsewhere.placement.id}"' not in page
    assert client.get(f"/placements/{newer.placement.id}").status_code == 200
