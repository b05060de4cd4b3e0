"""What every placement record is made of, whichever way it came about: the SSDA903 codes, the Placements Data
Standard's educationContinuity, and the individual placement agreement (IPA).

Shared by the features that record placements (requests, on accepting an offer; placements, for connected
persons and regenerated agreements) and by the demo loader, so it sits below them (DESIGN.md §3): it imports the
models, the database, auth's audit and the pure core, never a feature.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth.permissions import audit
from portal.db import db
from portal.errors import NotFound
from portal import geo
from portal.matching import DEFAULT_POLICY, vocabulary
from portal.models import ConnectedPerson, Offer, Placement, PlacementAgreement, PlacementRequest, Provider, Setting, User

AGREEMENT_TERMS_VERSION = 1

IPA_CLAUSES = (
    "The provider will look after the child as their care plan and placement plan say, and will meet the needs "
    "and manage the risks listed in this agreement.",
    "The local authority will pay the weekly cost shown here from the start date until the placement ends. "
    "Any extra cost must be agreed in writing before it is spent.",
    "The provider will tell the child's social worker the same day if the child goes missing, is hurt, is in "
    "trouble with the police, or if the placement may end.",
    "The provider will help the child go to school, see their family as the care plan says, and take part in "
    "their reviews.",
    "Either side must give 28 days' notice to end the placement, unless the child's safety needs it to end "
    "sooner.",
    "Both sides keep the child's information confidential and share it only as the law allows.",
    "Any change to these terms needs a new agreement signed by both sides.",
)
CONNECTED_PERSON_CLAUSES = (
    "The child lives with a connected person (a relative or friend) as a foster placement: section 22C(6)(a) "
    "of the Children Act 1989.",
    "A carer temporarily approved under regulation 24 must be fully assessed. Temporary approval lasts up to "
    "16 weeks and can be extended once, by up to 8 weeks.",
    "The local authority will support the carer and the child as the care plan and placement plan say, "
    "including any fostering allowance shown here.",
    "The carer will tell the child's social worker the same day if the child goes missing, is hurt, or if the "
    "placement may end.",
    "The carer signs the placement plan with the child's social worker; the local authority signs this "
    "agreement in the portal.",
    "The child's information is kept confidential and shared only as the law allows.",
)


def placement_type_for(kind: str, long_term: bool = False) -> str:
    """SSDA903 placement type: U4-U6 other foster, K2 children's home, K3 supported accommodation."""
    return {"foster": "U4" if long_term else "U6", "residential": "K2", "supported": "K3"}[kind]


def provider_code_for(provider: Provider, la_code: str) -> str:
    """SSDA903 provider code: an LA's own fostering service is PR1 for its children and PR2 for others'."""
    if provider.kind == "la_fostering":
        return "PR1" if provider.la_code == la_code else "PR2"
    return provider.provider_code


# Setting kinds that must be registered with Ofsted to look after a child: children's homes (Care Standards Act 2000
# s11) and supported accommodation for 16 and 17 year olds (registration required since 28 October 2023). A fostering
# household is approved by its agency or LA, which is the registered body, so it is never "unregistered" here.
REGISTRATION_REQUIRED_KINDS = frozenset({"residential", "supported"})


def unregistered_setting(kind: str | None, ofsted_urn: str | None) -> bool:
    """True when a setting of a kind that must be registered has no Ofsted URN in the portal (issue 13 §4): worked
    out when the placement is recorded and stored with it, so a later registration does not rewrite history."""
    return kind in REGISTRATION_REQUIRED_KINDS and not (ofsted_urn or "").strip()


def deprivation_of_liberty_recorded(needs: list | None) -> bool:
    """Whether a request's needs record a deprivation of liberty order (the need "deprivation_of_liberty"): the
    flag a placement starts with, which the officer confirms or corrects."""
    return "deprivation_of_liberty" in (needs or [])


def _labelled(code: str, table: dict[str, str]) -> dict[str, str]:
    return {"code": code, "label": table.get(code, code)}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def agreement_terms(
    placement: Placement,
    placement_request: PlacementRequest,
    offer: Offer | None,
    *,
    setting: Setting | None,
    provider: Provider | None,
    person: ConnectedPerson | None,
    placed_with: list[str] | None = None,
) -> dict:
    """The terms of the agreement as plain JSON: what both sides sign. Labels are stored as well as codes so the
    agreement reads the same after the vocabulary changes. `placed_with`: the references of the brothers and
    sisters placed in the same setting by the same offer (each child has an agreement; each names the others)."""
    weekly_cost = offer.fee_gbp_week if offer is not None else placement.weekly_cost_gbp
    start_date = offer.start_date if offer is not None else placement.start_date
    return {
        "version": AGREEMENT_TERMS_VERSION,
        "generated_on": date.today().isoformat(),
        "local_authority": {"code": placement.la_code, "name": geo.la_name(placement.la_code)},
        "child_reference": placement_request.child_reference,
        "arrangement": "connected_person" if person is not None else "provider",
        "offer_id": offer.id if offer is not None else None,
        "setting": None if setting is None else {
            "name": setting.name,
            "postcode": setting.postcode,
            "kind": vocabulary.SETTING_TYPES.get(setting.kind, setting.kind),
            "ofsted_urn": setting.ofsted_urn,
        },
        "provider": None if provider is None else {"name": provider.name},
        "carer": None if person is None else {
            "name": person.name,
            "relationship": person.relationship_to_child,
            "stage": vocabulary.CONNECTED_PERSON_STAGES.get(person.stage, person.stage),
        },
        "start_date": start_date.isoformat(),
        "weekly_cost_gbp": _money(weekly_cost),
        "placement_type": _labelled(placement.placement_type, vocabulary.PLACEMENT_TYPES),
        "provider_code": _labelled(placement.provider_code, vocabulary.PROVIDER_CODES),
        "distance_miles": f"{Decimal(placement.distance_miles):.1f}",
        "inside_la": placement.inside_la,
        "over_20_miles": placement.over_20_miles,
        "needs": [vocabulary.NEEDS.get(n, n) for n in placement_request.needs or ()],
        "risks": [vocabulary.RISKS.get(r, r) for r in placement_request.risks or ()],
        "clauses": list(CONNECTED_PERSON_CLAUSES if person is not None else IPA_CLAUSES),
        "placed_with": sorted(placed_with or ()),
    }


def create_agreement(
    placement: Placement,
    placement_request: PlacementRequest,
    offer: Offer | None = None,
    *,
    user: User | None = None,
) -> PlacementAgreement:
    """The individual placement agreement for a placement, generated from the request and the accepted offer
    (None for a connected-person placement). Idempotent: a placement has one agreement, and an existing one is
    returned unchanged (its terms never change once generated; a signed one is evidence)."""
    if placement_request.id != placement.request_id:
        raise NotFound()
    existing = db.session.scalar(select(PlacementAgreement).where(PlacementAgreement.placement_id == placement.id))
    if existing is not None:
        return existing
    db.session.flush()  # the placement must exist before its agreement refers to it
    agreement = PlacementAgreement(
        placement_id=placement.id,
        terms=agreement_terms(
            placement, placement_request, offer,
            setting=db.session.get(Setting, placement.setting_id) if placement.setting_id else None,
            provider=db.session.get(Provider, placement.provider_id) if placement.provider_id else None,
            person=(db.session.get(ConnectedPerson, placement.connected_person_id)
                    if placement.connected_person_id else None),
            placed_with=list(db.session.scalars(
                select(PlacementRequest.child_reference)
                .join(Placement, Placement.request_id == PlacementRequest.id)
                .where(Placement.offer_id == placement.offer_id, Placement.id != placement.id)
            )) if placement.offer_id else [],
        ),
    )
    try:
        # A savepoint, so losing a race to generate the same agreement leaves the caller's work intact.
        with db.session.begin_nested():
            db.session.add(agreement)
    except IntegrityError:
        return db.session.scalars(
            select(PlacementAgreement).where(PlacementAgreement.placement_id == placement.id)
        ).one()
    audit(user, "create_agreement", "placement_request", placement.request_id, detail=f"placement:{placement.id}")
    return agreement


def education_continuity(req: PlacementRequest, easting: int, northing: int) -> bool | None:
    """Can the child stay at their school from this placement? (Placements Data Standard educationContinuity.)

    Yes when the plan keeps the school and the placement is within the matching policy's school distance;
    no when a school is recorded but the plan changes it or the placement is further; unknown without a school.
    """
    return education_continuity_at(req.school_easting, req.school_northing, req.keep_school, easting, northing)


def education_continuity_at(school_easting: int | None, school_northing: int | None, keep_school: bool,
                            easting: int, northing: int) -> bool | None:
    """educationContinuity from the plain fields (the demo loader builds rows, not PlacementRequest objects)."""
    if school_easting is None or school_northing is None:
        return None
    if not keep_school:
        return False
    return geo.distance_miles(school_easting, school_northing, easting, northing) <= DEFAULT_POLICY.school_far_miles
