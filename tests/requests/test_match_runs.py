"""The ranking an officer saw when they acted is kept with the request and re-runs to the same answer with the
matching core's contract (`python -m portal.matching rank`), even though only the matched options are kept."""

import json
import subprocess
import sys

from sqlalchemy import select

import dataclasses

from portal.matching import DEFAULT_POLICY, Policy, rank_problem
from portal.models import MatchRun
from tests.factories import (
    create_connected_person, create_offer, create_provider, create_referral, create_request, create_setting,
    create_user, create_vacancy,
)


def test_saved_ranking_reruns_to_the_same_matches(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer, budget="900", needs=["therapeutic_support"])
    create_connected_person(req)
    providers = [create_provider(name=f"P{i}") for i in range(3)]
    postcodes = ["CV2 4GA", "CV1 5FB", "B15 2TT", "WR1 2AB"]
    for i, postcode in enumerate(postcodes):
        create_vacancy(create_setting(providers[i % 3], postcode=postcode, fee_gbp_week=str(700 + 150 * i),
                                      needs_met=["therapeutic_support"] if i != 1 else []))
    create_vacancy(create_setting(providers[0], kind="residential", fee_gbp_week="4800", age_min=8))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/referrals", data={"send_to": "all"}).status_code == 302

    run = db_session.scalar(select(MatchRun).where(MatchRun.purpose == "send_referrals"))
    assert run.request_id == req.id
    assert "Amara" not in json.dumps(run.problem) and str(req.date_of_birth) not in json.dumps(run.problem)
    kept = run.result["matches"]
    assert kept and kept[0]["option"].startswith("cp-")  # family first
    rerun = rank_problem(run.problem)["results"][0]
    assert rerun["request"] == req.id
    assert rerun["matches"] == kept

    # The same through the command line anyone can run.
    out = subprocess.run([sys.executable, "-m", "portal.matching", "rank", "-"], input=json.dumps(run.problem),
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["results"][0]["matches"] == kept

    # Every weight is kept, not only the medians: after the region changes its default weights, the saved
    # problem still scores with the weights of the day it was acted on.
    saved = run.problem["policy"]
    assert set(saved) == {f.name for f in dataclasses.fields(Policy)}
    other_defaults = dataclasses.replace(DEFAULT_POLICY, distance_points_per_mile=7, own_la_points=3,
                                         over_budget_penalty_cap=1)
    assert Policy.from_overrides(saved, other_defaults) == Policy.from_overrides(saved, DEFAULT_POLICY)
    assert Policy.from_overrides(saved).distance_points_per_mile == DEFAULT_POLICY.distance_points_per_mile


def test_accepting_an_offer_keeps_the_ranking_too(client, auth, db_session):
    officer = create_user("officer")
    req = create_request(officer)
    provider = create_provider()
    offer = create_offer(create_referral(req, provider), create_vacancy(create_setting(provider)))
    auth.sign_in(officer)
    assert client.post(f"/requests/{req.id}/offers/{offer.id}/accept").status_code == 302
    run = db_session.scalar(select(MatchRun).where(MatchRun.purpose == "accept_offer"))
    assert [m["option"] for m in run.result["matches"]] == [offer.vacancy_id]
