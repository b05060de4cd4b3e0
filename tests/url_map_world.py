"""A small, realistic region for tests/test_url_map.py: two LAs' officers, two providers with their people, a
child's request referred to provider A with an offer, a child placed with provider A, a connected person, a sibling
group, a Birmingham child, commissioners and an administrator.

"The owner" of the records the URL walk opens is the Coventry officer (the requests) and provider A (its settings,
vacancies, referrals, offers and people). Birmingham's officer and provider B are the outsiders.

Each child's names and reference are *markers*: strings that may appear only on the pages of the actors allowed to
see that child (`World.secrets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal.auth.services import issue_reset_link
from portal.db import db
from portal.market.scenarios import compute as whatif_compute
from portal.models import InAppNotification, User, WhatIfScenario
from portal.notifications.services import link, queue_notification
from portal.placement_records import create_agreement
from portal.providers.services import invite_token, invite_user
from portal.requests.services import accept_offer, link_sibling
from tests.factories import (
    BIRMINGHAM,
    COVENTRY,
    create_connected_person,
    create_offer,
    create_provider,
    create_referral,
    create_request,
    create_setting,
    create_user,
    create_vacancy,
)

# Who is who in the walk. The first part says which organisation they act for (see test_url_map.OWNERS).
ACTORS = (
    "anonymous",
    "officer",  # Coventry: the owner of the requests
    "other_la_officer",  # Birmingham
    "provider_admin",  # provider A: the owner of the settings, vacancies, referrals and offers
    "provider_manager",
    "provider_staff",
    "other_provider_admin",  # provider B
    "commissioner_la",  # Coventry's commissioner
    "commissioner_region",  # the regional hub's commissioner (no LA)
    "data_officer",  # a regional commissioner with the data extract permission (extract_access)
    "admin",
    "officer_password_only",  # the Coventry officer half-way through signing in: password given, no security code
)
# Actors who are not signed in, and the page each must be sent to for anything behind a sign-in.
SIGN_IN_PAGE = {"anonymous": "/sign-in", "officer_password_only": "/sign-in/security-code"}
# The organisation each actor acts for: the owner's are "la" (Coventry) and "provider" (provider A).
ORGANISATION = {
    "anonymous": None, "officer": "la", "other_la_officer": "other_la", "provider_admin": "provider",
    "provider_manager": "provider", "provider_staff": "provider", "other_provider_admin": "other_provider",
    "commissioner_la": "commissioning", "commissioner_region": "commissioning", "data_officer": "commissioning",
    "admin": "hub",
    "officer_password_only": None,
}
PROVIDER_A_USERS = ("provider_admin", "provider_manager", "provider_staff")


@dataclass
class World:
    users: dict[str, User]
    ids: dict[str, str]  # the records the URL variables are filled from (test_url_map.VARIABLES)
    invite_token: str
    reset_token: str
    foreign: dict[str, list[str]]
    # marker -> the actors who may see it; every other actor's every response must not contain it.
    secrets: dict[str, frozenset[str]] = field(default_factory=dict)

    def hidden_from(self, actor: str) -> list[str]:
        return [marker for marker, viewers in self.secrets.items() if actor not in viewers]


def _child_markers(req) -> list[str]:
    return [req.first_name, req.last_name, req.child_reference]


def build_world() -> World:
    """Create the region's records (inside an app context) and return who is who and which ids to use."""
    officer = create_user("officer", la_code=COVENTRY, name="Olivia Officer")
    other_la_officer = create_user("officer", la_code=BIRMINGHAM, name="Bola Officer")

    provider = create_provider(name="Arden Fostering")
    other_provider = create_provider(name="Marches Care")
    applicant = create_provider(name="Newfield Homes", status="pending")  # a registration waiting for the hub
    users = {
        "officer": officer,
        "other_la_officer": other_la_officer,
        "provider_admin": create_user("provider", provider=provider, provider_role="admin", name="Ada Admin"),
        "provider_manager": create_user("provider", provider=provider, provider_role="manager", name="Pat Manager"),
        "provider_staff": create_user("provider", provider=provider, provider_role="staff", name="Sam Staff"),
        "other_provider_admin": create_user("provider", provider=other_provider, provider_role="admin",
                                            name="Rhys Rival"),
        "commissioner_la": create_user("commissioner", la_code=COVENTRY, name="Cora Commissioner"),
        "commissioner_region": create_user("commissioner", la_code=None, name="Reg Commissioner"),
        "data_officer": create_user("commissioner", la_code=None, name="Dara Data"),
        "admin": create_user("admin", la_code=None, name="Hana Hub"),
    }
    users["data_officer"].extract_access = True
    create_user("provider", provider=applicant, provider_role="admin", name="Nia Newfield")

    needs, risks = ["therapeutic_support"], ["going_missing"]
    setting = create_setting(provider, postcode="CV2 4GA", name="Willow household", needs_met=needs,
                             risks_managed=risks, registered_places=3)
    vacancy = create_vacancy(setting, places=2, fee_gbp_week="880")
    placed_setting = create_setting(provider, postcode="CV3 1AA", name="Rowan household", needs_met=needs,
                                    risks_managed=risks)
    placed_vacancy = create_vacancy(placed_setting, places=1, fee_gbp_week="900")
    other_setting = create_setting(other_provider, postcode="B1 1AA", name="Rival house", kind="residential",
                                   needs_met=needs, risks_managed=risks)
    other_vacancy = create_vacancy(other_setting, places=1, fee_gbp_week="4200")

    # The owner's searching child: referred to provider A, who offered a place; a brother; an aunt.
    child = create_request(officer, first_name="Zephyrine", last_name="Quillfeather", needs=needs, risks=risks)
    brother = create_request(officer, first_name="Ignatius", last_name="Quillfeather", age=10, sex="male",
                             needs=needs, risks=risks)
    link_sibling(officer, child, brother, together=True)
    aunt = create_connected_person(child, name="Philippa Larkspur", stage="approved")
    referral = create_referral(child, provider)
    offer = create_offer(referral, vacancy, fee="880")
    create_referral(child, other_provider)  # provider B was asked too, and has not answered

    # The owner's placed child: provider A's offer accepted, the agreement generated.
    placed = create_request(officer, first_name="Octavia", last_name="Brightwater", needs=needs, risks=risks)
    placed_offer = create_offer(create_referral(placed, provider), placed_vacancy, fee="900")
    placement = accept_offer(officer, placed, placed_offer)
    create_agreement(placement, placed, placed_offer, user=officer)

    # Birmingham's child, referred to provider B, who offered a place; an uncle.
    brummie = create_request(other_la_officer, first_name="Barnaby", last_name="Thistlewood", home_postcode="B1 1AA",
                             needs=needs, risks=risks)
    other_offer = create_offer(create_referral(brummie, other_provider), other_vacancy, fee="4200")
    uncle = create_connected_person(brummie, name="Cuthbert Marchbank", postcode="B1 1AA", stage="approved")

    # A colleague provider A's admin has invited, who has not set a password yet.
    invitee = invite_user(users["provider_admin"], name="Ivy Invited", email="ivy@arden.example.test",
                          provider_role="staff")
    # A password reset link provider A's admin issued for their staff member (nobody has used it).
    reset_token = issue_reset_link(users["provider_admin"], users["provider_staff"])
    # The officer's own in-app notification, and an email the sender gave up on (the hub may send it again).
    fields = {"provider": provider.name, "summary": "Female, age 9", "link": link("requests.detail", request_id=child.id)}
    queue_notification(officer, "offer_received", **fields)
    given_up = queue_notification(users["admin"], "offer_received", **fields)
    given_up.status, given_up.attempts, given_up.last_error = "dead", 5, "ConnectionRefusedError"
    db.session.flush()
    officer_note = db.session.scalars(select(InAppNotification).where(InAppNotification.user_id == officer.id)
                                      .order_by(InAppNotification.created_at.desc())).first()
    from portal.api.services import issue_la_system_token, issue_provider_system_token

    la_token = issue_la_system_token(users["admin"], COVENTRY, name="Coventry case system", scopes=["requests:read"],
                                     days=30).token
    provider_token = issue_provider_system_token(users["provider_admin"], name="Arden system",
                                                 scopes=["referrals:read"], days=30).token
    db.session.commit()
    users["officer_password_only"] = officer
    # A what-if scenario the regional commissioner saved (the region's commissioners share them; issue 13 §1).
    scenario = WhatIfScenario(name="Two more homes in Coventry", created_by_id=users["commissioner_region"].id,
                              items=[], results={"open": whatif_compute([], "open")})  # run once: its CSV exists
    db.session.add(scenario)
    db.session.commit()

    officer_only = frozenset({"officer"})
    secrets = {marker: officer_only for marker in _child_markers(child) + _child_markers(brother) + [aunt.name]}
    # Once provider A's offer is accepted it may know the child (DESIGN.md §5: anonymised *until* acceptance).
    secrets |= {marker: frozenset({"officer", *PROVIDER_A_USERS}) for marker in _child_markers(placed)}
    secrets |= {marker: frozenset({"other_la_officer"}) for marker in _child_markers(brummie) + [uncle.name]}

    return World(
        users=users,
        ids={
            "request": child.id, "offer": offer.id, "referral": referral.id, "connected_person": aunt.id,
            "placement": placement.id, "setting": setting.id, "vacancy": vacancy.id, "user": invitee.id,
            "applicant": applicant.id, "other_request": brummie.id,
            "in_app_notification": officer_note.id, "la_token": la_token.id, "provider_token": provider_token.id, "dead_notification": given_up.id, "scenario": scenario.id,
        },
        # Records that are not the owner's, or not the owning record's: in a URL beside the owner's, each is 404.
        foreign={
            "offer_id": [other_offer.id, placed_offer.id],  # Birmingham's child's; the owner's other child's
            "connected_person_id": [uncle.id],  # Birmingham's child's uncle
        },
        invite_token=invite_token(invitee),
        reset_token=reset_token,
        secrets=secrets,
    )
