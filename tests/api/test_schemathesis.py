"""Schemathesis against the API's own OpenAPI document, on both databases (issue 14 "Done when"): every operation
with generated data, as an LA's system and a provider's; never a 5xx, and every answer conforms to the document
(status, content type, headers, body schema). Bounded (a few examples an operation) so the suite stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.helpers import bearer, token_for
from tests.factories import (create_provider, create_referral, create_request, create_setting, create_user,
                             create_vacancy)

# "Schema-valid data is accepted" does not hold here by design: the document gives each field's type and
# vocabulary, and the web forms' own checks then refuse more (a date of birth in the future, an unknown postcode,
# an id that is not the token's), with a 4xx naming the field. Every other check runs.
PROVIDER_PATHS = ("/api/v1/referrals", "/api/v1/offers", "/api/v1/vacancies")


@pytest.fixture
def api_world(app):
    with app.app_context():
        officer = create_user("officer")
        provider = create_provider()
        provider_user = create_user("provider", provider=provider)
        create_vacancy(create_setting(provider, postcode="CV2 4GA"))
        create_referral(create_request(officer), provider)
        la = token_for(officer, "requests:read", "requests:write", "placements:read")
        prov = token_for(provider_user, "referrals:read", "offers:write", "vacancies:write")
    return {"la": la, "provider": prov}


def test_every_operation_conforms_and_never_fails(app, api_world):
    """Each operation of the document in turn, with Hypothesis drawing its cases (schemathesis' own pytest plugin
    is not used: it does not run under this suite's pytest)."""
    from hypothesis import given

    app.config["API_RATE_LIMIT"] = 0  # the generated requests are many and quick: no limit here
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        who = "provider" if operation.path.startswith(PROVIDER_PATHS) else "la"

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(headers=bearer(api_world[who]), excluded_checks=[positive_data_acceptance])

        run()
