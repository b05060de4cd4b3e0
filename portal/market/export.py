"""The pseudonymised export of referrals and placements in the Placements Data Standard's fields (issue 6 §4).

One row per placement request (the standard's referral) or per placement, for regional sufficiency analysis.
Pseudonymous, not anonymous: every id is an HMAC-SHA256 of the record id keyed with the portal's SECRET_KEY, so the
same child has the same `childId` in both files and across exports, and nobody without the key can get back to the
record. Never exported: names, dates of birth (an age band instead), postcodes beyond the sector, free text, officers'
names (the standard's QualityAssurance names), ethnicity, religion or language.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Iterator

from portal.geo import postcode_sector
from portal.market import queries
from portal.market.filters import AGE_BANDS, MarketFilters

# The standard's option words (../shared/reference/placements-standard.json).
NEEDED_BY = {"today": "Today", "within_5_days": "in less than 5 days", "over_5_days": "in more than 5 days"}
SUITABILITY = {"preferred": "Preferred", "suitable": "Suitable but not preferred", "unsuitable": "Unsuitable"}
CULTURAL = {"required": "Required", "not_required": "Not required", "not_known": "Not Known", "other": "Other"}
COMPANIONS = {"solo": "Solo placement recommended", "with_others": "With other children recommended",
              "older_only": "Only with other older children", "younger_only": "Only with other younger children",
              "no_preference": "No preference"}
PETS = {"must": "Yes - must", "can": "Yes - can", "no": "No", "unknown": "Not Known"}
COMMUNICATION = {"esol": "ESOL", "bsl": "BSL", "makaton": "Makaton"}
ADDITIONAL_SUPPORT = {"additional_supervision": "additional supervision", "therapeutic_support": "therapeutic support",
                      "respite_worker": "a worker for respite", "school_transport": "taxis to school"}
RISK_FIELDS = {
    "self_harm": "riskSelfHarm", "sexual_exploitation": "riskSexualExploitation",
    "criminal_exploitation": "riskCriminalExploitation", "drug_alcohol": "riskDrugAlcohol",
    "eating_disorder": "riskEatingDisorder", "going_missing": "riskMissing",
    "others_physical": "riskToOthersPhysical", "others_sexual": "riskToOthersSexual",
    "others_fire": "riskToOthersFire", "others_animals": "riskToOthersAnimals",
    "others_criminal": "riskToOthersCriminal",
}
PLACEMENT_TYPE = {"foster": "Foster", "residential": "Residential", "supported": "Supported Accommodation"}

REFERRAL_HEADER = (
    "childId", "localAuthority", "referralDate", "neededBy", "siblingCount", "preferredLocation", "ageBand",
    "communicationNeeds", "specificCommunicationRequirements", "homeAdaptation", "culturalNeeds", "livingCompanions",
    "pets", "additionalSupport", "deprivationOfLiberty", "fosterCareSuitability", "residentialCareSuitability",
    "supportedAccommodationSuitability", *RISK_FIELDS.values(), "requestStatus",
)
PLACEMENT_HEADER = (
    "childId", "placementId", "localAuthority", "placementDate", "totalWeeklyCost", "placementLocation",
    "preferabilityLocation", "educationContinuity", "providerURN", "siblingsPlacedTogether", "placementType",
    "ageBand", "ssda903PlacementType", "ssda903ProviderCode", "distanceMiles", "over20Miles", "endDate",
    "endReason",
)


def pseudonym(secret: str, kind: str, record_id: str) -> str:
    """The pseudonymous id of a record: HMAC-SHA256(SECRET_KEY, "<kind>:<id>"), first 20 hex digits (80 bits)."""
    return hmac.new(secret.encode(), f"{kind}:{record_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _age_band(dob: date, on: date) -> str:
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    key = "under_1" if age < 1 else "1_4" if age < 5 else "5_9" if age < 10 else "10_15" if age < 16 else "16_plus"
    return AGE_BANDS[key]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def referral_rows(f: MarketFilters, secret: str) -> Iterator[tuple]:
    for (rid, la, submitted, urgency, needed_by, dob, home, needs, risks, cultural, companions, pets, foster,
         residential, supported, status, siblings) in queries.export_referral_rows(f):
        needs, risks = set(needs or ()), set(risks or ())
        communication = [COMMUNICATION[c] for c in COMMUNICATION if c in needs]
        support = [ADDITIONAL_SUPPORT[c] for c in ADDITIONAL_SUPPORT if c in needs]
        yield (
            pseudonym(secret, "request", rid), la, submitted.date().isoformat() if submitted else "",
            NEEDED_BY.get(urgency, ""), siblings, postcode_sector(home) if home else "", _age_band(dob, needed_by),
            "Y" if communication else "N", ";".join(communication) or "None", _yes_no("home_adaptation" in needs),
            CULTURAL.get(cultural, ""), COMPANIONS.get(companions, ""), PETS.get(pets, ""),
            ";".join(support) or "NA", _yes_no("deprivation_of_liberty" in needs),
            SUITABILITY.get(foster, ""), SUITABILITY.get(residential, ""), SUITABILITY.get(supported, ""),
            *("Risk Present" if code in risks else "No known risk" for code in RISK_FIELDS),
            status,
        )


def placement_rows(f: MarketFilters, secret: str) -> Iterator[tuple]:
    kinds = {**{c: "foster" for c in queries.FOSTER_CODES}, "K2": "residential", "K3": "supported"}
    for (pid, rid, la, start, end, end_reason, code, provider_code, cost, miles, inside, over_20, siblings,
         setting_postcode, urn, _kind, dob, _submitted, education) in queries.export_placement_rows(f):
        yield (
            pseudonym(secret, "request", rid), pseudonym(secret, "placement", pid), la, start.isoformat(),
            f"{cost:.0f}" if cost is not None else "",
            postcode_sector(setting_postcode) if setting_postcode else "",
            # preferabilityLocation: inside the child's LA; educationContinuity as recorded with the placement
            # (empty when no school was recorded).
            _yes_no(inside), _yes_no(education), urn or "", siblings, PLACEMENT_TYPE.get(kinds.get(code, ""), ""),
            _age_band(dob, start), code, provider_code, f"{miles:.1f}", _yes_no(over_20),
            end.isoformat() if end else "", end_reason or "",
        )


EXPORTS = {
    "referrals": (REFERRAL_HEADER, referral_rows, "Referrals (placement requests)"),
    "placements": (PLACEMENT_HEADER, placement_rows, "Placements"),
}
