"""The words the matching core, the forms, the demo data and the exports share.

Keys are stable machine codes (stored in the database and in problem files); values are the labels people read.
Based on the Placements Data Standard v2 (../shared/reference/placements-standard.json): its field name is given
beside each group so exports can map back to it.
"""

from __future__ import annotations

# PlacementAvailability.neededBy
URGENCY = {
    "today": "Today",
    "within_5_days": "In less than 5 days",
    "over_5_days": "In more than 5 days",
}
URGENCY_ORDER = ("today", "within_5_days", "over_5_days")

# The DfE looked-after children statistics' age bands, and the whole years each covers (an age in years on the date
# that matters: for a referral, the date the child is needed).
AGE_BANDS = {
    "under_1": "Under 1",
    "1_4": "1 to 4",
    "5_9": "5 to 9",
    "10_15": "10 to 15",
    "16_plus": "16 and over",
}
AGE_BAND_YEARS = {"under_1": (0, 0), "1_4": (1, 4), "5_9": (5, 9), "10_15": (10, 15), "16_plus": (16, 99)}

# PlacementRecommendation.*Suitability; the three setting types a child can be judged suitable for.
SETTING_TYPES = {
    "foster": "Foster care",
    "residential": "Residential care (children's home)",
    "supported": "Supported accommodation (16 and over)",
}
SUITABILITY = {
    "preferred": "Preferred",
    "suitable": "Suitable but not preferred",
    "unsuitable": "Unsuitable",
}

# Option kinds: the three setting types plus a connected person (family and friends, s22C(6)(a)).
OPTION_KINDS = {**SETTING_TYPES, "connected_person": "Connected person (family and friends)"}

# Needs a setting must say it can meet (hard rule 5). From PlacementRequirements:
# specificCommunicationRequirements, homeAdaptation, additionalSupport, deprivationOfLiberty.
NEEDS = {
    "esol": "English for speakers of other languages (ESOL)",
    "bsl": "British Sign Language (BSL)",
    "makaton": "Makaton",
    "home_adaptation": "Adaptations to the home (disability)",
    "additional_supervision": "Additional supervision",
    "therapeutic_support": "Therapeutic support",
    "respite_worker": "A worker for respite",
    "school_transport": "Transport to school",
    "deprivation_of_liberty": "Deprivation of liberty order in place",
}

# Risks (hard rule 5: every present risk must be one the setting can manage). From the standard's Risks entity.
RISKS_TO_CHILD = {
    "self_harm": "Self-harm",
    "sexual_exploitation": "Sexual exploitation",
    "criminal_exploitation": "Criminal exploitation",
    "drug_alcohol": "Drug and alcohol use",
    "eating_disorder": "Eating disorder",
    "going_missing": "Going missing",
}
RISKS_TO_OTHERS = {
    "others_physical": "Physical harm to others",
    "others_sexual": "Sexual harm to others",
    "others_fire": "Fire-setting",
    "others_animals": "Harm to animals",
    "others_criminal": "Criminal exploitation of others",
}
RISKS = {**RISKS_TO_CHILD, **RISKS_TO_OTHERS}

# PlacementRequirements.pets: can the child live with pets or animals?
PETS = {
    "must": "Yes - must live with pets",
    "can": "Yes - can live with pets",
    "no": "No - cannot live with pets",
    "unknown": "Not known",
}

# PlacementRequirements.livingCompanions: who can the child be cared for alongside?
LIVING_COMPANIONS = {
    "solo": "Solo placement recommended",
    "with_others": "With other children recommended",
    "older_only": "Only with other older children",
    "younger_only": "Only with other younger children",
    "no_preference": "No preference",
}

# PlacementRequirements.culturalNeeds
CULTURAL_NEEDS = {
    "required": "Required",
    "not_required": "Not required",
    "not_known": "Not known",
    "other": "Other",
}

SEXES = {"female": "Female", "male": "Male"}

# SSDA903 provider codes (903 guide, PLACEMENT PROVIDER).
PROVIDER_CODES = {
    "PR0": "Parent or other person with parental responsibility",
    "PR1": "Own provision (by the local authority)",
    "PR2": "Other local authority provision",
    "PR3": "Other public provision (for example a primary care trust)",
    "PR4": "Private provision",
    "PR5": "Voluntary or third sector provision",
}

# Ofsted overall effectiveness grades, best first.
OFSTED_RATINGS = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement to be good",
    "inadequate": "Inadequate",
}

# SSDA903 placement type codes used by the portal (903 guide, PLACEMENT TYPE).
PLACEMENT_TYPES = {
    "U1": "Foster placement with relative or friend - long term fostering",
    "U2": "Foster placement with relative or friend who is also an approved adopter (FFA)",
    "U3": "Foster placement with relative or friend - not long term or FFA",
    "U4": "Foster placement with other foster carer - long term fostering",
    "U5": "Foster placement with other foster carer who is also an approved adopter (FFA)",
    "U6": "Foster placement with other foster carer - not long term or FFA",
    "K2": "Children's home",
    "K3": "Registered supported accommodation",
    "P1": "Placed with own parent(s) or other person(s) with parental responsibility",
}

# SSDA903 reason for placement change / episode end (subset the portal records when a placement ends).
PLACEMENT_END_REASONS = {
    "E11": "Adopted",
    "E13": "Left care to live with parent(s), relative(s), or other person(s) with no parental responsibility",
    "E4A": "Returned home to live with parent(s), relative(s), or other person(s) with parental responsibility",
    "E41": "Residence order or child arrangements order granted",
    "E45": "Special guardianship order made to former foster carer(s)",
    "E8": "Period of being looked after ceased for any other reason",
    "X1": "Episode ceases, and new episode begins on same day, for any reason",
    "CARPL": "Change of placement (carer or setting)",
}
RETURN_HOME_REASONS = frozenset({"E4A", "E13"})
# The placement changed but the child stayed looked after; every other reason is the child leaving care, so a later
# placement of the same child is a re-entry to care (the 903 guide's episodes).
CHANGE_OF_PLACEMENT_REASONS = frozenset({"CARPL", "X1"})

# Connected person assessment stages (Care Planning Regulations 2010, reg 24 temporary approval).
CONNECTED_PERSON_STAGES = {
    "identified": "Identified",
    "viability": "Viability assessment",
    "temporary_approval": "Temporarily approved (regulation 24)",
    "approved": "Approved connected-person foster carer",
}

# Flags on a match (portal.matching.scoring.FLAGS), as officers read them.
MATCH_FLAGS = {
    "outside_la": "Outside the local authority",
    "over_20_miles": "Over 20 miles from home",
    "over_budget": "Over budget",
    "far_from_school": "Far from school",
    "stale_vacancy": "Vacancy not confirmed for 14 days",
}

# Why a provider cannot offer a place for a referral (issue 13 §4): a fixed list, so commissioners can count the
# reasons by kind of provider, placement type and need. "other" needs the provider's own words (at most
# DECLINE_REASON_OTHER_MAX characters). The order is the form's.
DECLINE_REASONS = {
    "no_vacancy": "No vacancy at that date",
    "needs_not_met": "We cannot meet the child's needs",
    "risk_to_others": "Risks to the other children living there",
    "matching": "Matching with the children living there now",
    "location": "The location",
    "fee": "The fee",
    "other": "Another reason",
}
DECLINE_REASON_OTHER_MAX = 500
