"""Driving the placement request task list through the web, as an officer does."""

from __future__ import annotations

import re
from datetime import date, timedelta


def date_fields(name: str, day: date) -> dict:
    return {name: [str(day.day), str(day.month), str(day.year)]}


def child_section(**changes) -> dict:
    data = {"child_reference": "COV-77", "first_name": "Jay", "last_name": "Singh",
            **date_fields("date_of_birth", date(date.today().year - 9, 4, 3)), "sex": "male"}
    data.update(changes)
    return data


SECTION_DEFAULTS = {
    "location": {"home_postcode": "CV1 2AB", "school_postcode": ""},
    "timing": {"urgency": "over_5_days", **date_fields("needed_by", date.today() + timedelta(days=4))},
    "suitability": {"suitability_foster": "preferred", "suitability_residential": "suitable",
                    "suitability_supported": "unsuitable"},
}


def create_request_via_web(client, *, child: dict | None = None, submit: bool = True, **sections) -> str:
    """Start a request, complete the required sections (plus any given), submit; return its id."""
    response = client.post("/requests/new", data=child or child_section())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    request_id = re.search(r"/requests/([0-9a-f]{32})/edit", response.headers["Location"]).group(1)
    for key, data in {**SECTION_DEFAULTS, **sections}.items():
        response = client.post(f"/requests/{request_id}/edit/{key}", data={**data, "action": "continue"})
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:3000])
    if submit:
        response = client.post(f"/requests/{request_id}/submit")
        assert response.status_code == 302
    return request_id
