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


def test_the_list_is_paged_with_a_total_and_filtered_by_status(client, auth, db_session, monkeypatch):
    """Nothing is cut silently (issue 11 §4): every placement is on some page, the total is shown, and current
    and ended placements can be listed apart."""
    from portal import listing
    from tests.factories import create_provider, create_user
    from tests.pages import Page
    from tests.placements.placement_factories import create_offer_placement, past

    monkeypatch.setattr(listing, "PER_PAGE", 2)
    officer = create_user("officer")
    provider = create_provider()
    manager = create_user("provider", provider=provider, provider_role="manager")
    made = [create_offer_placement(officer, provider=provider, provider_user=manager, first_name=f"Child{n}",
                                   start_date=past(10 - n)) for n in range(5)]
    made[0].placement.end_date = past(1)
    db_session.commit()
    auth.sign_in(officer)
    seen = []
    for page_number in (1, 2, 3):
        page = Page(client.get(f"/placements/?page={page_number}").get_data(as_text=True))
        seen += [row[0].split()[0] for row in page.table_rows("placements-table")]
        assert page.pagination() == (page_number, 3)
    assert page.testid("placements-count") == "Showing 5 to 5 of 5 placements"
    assert seen == [f"Child{n}" for n in (4, 3, 2, 1, 0)]  # newest start first, each once
    ended = Page(client.get("/placements/?status=ended").get_data(as_text=True))
    assert [row[0].split()[0] for row in ended.table_rows("placements-table")] == ["Child0"]
    assert ended.testid("placements-count") == "1 placement"
    current = Page(client.get("/placements/?status=current&page=2").get_data(as_text=True))
    assert current.testid("placements-count") == "Showing 3 to 4 of 4 placements"
    assert Page(client.get("/placements/?page=9").get_data(as_text=True)).pagination() == (3, 3)  # the last page
    assert client.get("/placements/?page=abc&status=bogus").status_code == 200
