"""The data extract: one row per placement in the Placements Data Standard's fields, generalised to k-anonymity
(k = 8) so no combination of its quasi-identifiers is shared by fewer than 8 children (DESIGN.md §5; issue 15 §9).

Commissioners see aggregates only; this file is the one child-level release, for regional data sharing, and only a
commissioner the regional administrator has given `User.extract_access` may download it (views.py; every download
is audited with its row count). The page that offers it (templates/market/extract.html) explains the same rules.

Rows. Placements that started in the chosen period and area (the standard's ActualPlacement, with its request's
PlacementAvailability, PlacementRequirements, PlacementRecommendation and QualityAssurance dates). A placement whose
SSDA903 type is none of the standard's placementType options (foster, residential, supported accommodation) is
left out and counted (`not_in_standard`).

Quasi-identifiers (what someone who knows a child could match on), each with its generalisation steps:

    localAuthority                          never generalised: each LA is anonymised on its own (its name,
                                            localAuthorityName, sits next to the ONS code and adds nothing)
    preferredLocation   home postcode       district "B15" -> area "B" -> suppressed (empty; the field is 0..1)
    placementLocation   setting or carer    district -> area -> "West Midlands" / "Outside the West Midlands"
    ageBand             age at the start    DfE band -> "Under 10" / "10 to 15" / "16 and over" -> "Under 18"
    referralDate, placementDate, costDate   month -> quarter -> year -> 12 months (the market's periods): the
                        date is the period's first day; referralPeriod and placementPeriod say which period
                        ("2025-04", "2025-Q2", "2025", "2025-03 to 2026-02")
    placementType                           never generalised (the standard has no wider option)
    needs   communicationNeeds, needs, additionalSupport, deprivationOfLiberty:
              the needs exactly -> how many needs with the highest additional support -> whether any -> suppressed
    risks   the risks exactly -> how many -> whether any -> suppressed

Then anonymity.anonymise, per LA: start with every quasi-identifier at its widest, and make one more precise a
step at a time (the step keeping most classes of 8 or more children) while at most 5% of the LA's rows would fall
in a smaller class; then suppress (drop) every row still in a class of fewer than 8 different children. The
number dropped is reported on the page.

What the standard's fields hold, and the rules where the portal's data needs one:
- childId: the row's number in this file (1..n, rows sorted by their values), not a lasting pseudonym. A lasting
  id would let two downloads be joined, and each was generalised differently, so together they would undo it.
- additionalSupport takes one option (cardinality 0..1). A child with several gets the highest level of support,
  in the order therapeutic support, additional supervision, a worker for respite, taxis to school; "other (please
  specify)" when only free text was recorded (the text is not exported); "NA" when none. Empty once needs are
  generalised to "whether any".
- educationContinuity is required: true when the placement keeps the child at their recorded school
  (placement_records.education_continuity), false when a school is recorded and the placement moves the child, and
  false when no school is recorded (under school age, or not known): continuity is claimed only when shown.
- communicationNeeds "Not Specified" and deprivationOfLiberty empty once needs are generalised.

Withheld (WITHHELD, with the reason): the standard's per-item fields that would give the needs and risks exactly
(specificCommunicationRequirements, homeAdaptation and the eleven risk flags: each is required and has no "not
stated" option, so none can be generalised; the `needs` and `risks` columns carry them instead), free text, the
officers' names, and providerURN (with Ofsted's public register it gives the setting's address, finer than any
generalised location). Never exported: names, dates of birth, full postcodes, ethnicity, religion, language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from portal import geo
from portal.market import queries
from portal.market.anonymity import Anonymised, QuasiIdentifier, anonymise
from portal.market.filters import AGE_BANDS, MarketFilters

K = 8  # DESIGN.md §5: no combination of quasi-identifiers shared by fewer than 8 rows
SUPPRESSION_BUDGET = 0.05  # stop generalising once at most this share of an LA's rows would be dropped

# The standard's option words (../shared/reference/placements-standard.json), from the portal's codes.
NEEDED_BY = {"today": "Today", "within_5_days": "in less than 5 days", "over_5_days": "in more than 5 days"}
SUITABILITY = {"preferred": "Preferred", "suitable": "Suitable but not preferred", "unsuitable": "Unsuitable"}
NOT_SPECIFIED = "Not specified"
CULTURAL = {"required": "Required", "not_required": "Not required", "not_known": "Not Known", "other": "Other"}
COMPANIONS = {"solo": "Solo placement recommended", "with_others": "With other children recommended",
              "older_only": "Only with other older children", "younger_only": "Only with other younger children",
              "no_preference": "No preference"}
PETS = {"must": "Yes - must", "can": "Yes - can", "no": "No", "unknown": "Not Known"}
# additionalSupport: the highest level of support first (the rule above).
ADDITIONAL_SUPPORT = {"therapeutic_support": "therapeutic support", "additional_supervision": "additional supervision",
                      "respite_worker": "a worker for respite", "school_transport": "taxis to school"}
# The words the `needs` column uses: the standard's own option or field name for each of the portal's needs.
NEED_WORDS = {"esol": "ESOL", "bsl": "BSL", "makaton": "Makaton", "home_adaptation": "homeAdaptation",
              **ADDITIONAL_SUPPORT, "deprivation_of_liberty": "deprivationOfLiberty"}
COMMUNICATION = ("esol", "bsl", "makaton")
RISK_FIELDS = {
    "self_harm": "riskSelfHarm", "sexual_exploitation": "riskSexualExploitation",
    "criminal_exploitation": "riskCriminalExploitation", "drug_alcohol": "riskDrugAlcohol",
    "eating_disorder": "riskEatingDisorder", "going_missing": "riskMissing",
    "others_physical": "riskToOthersPhysical", "others_sexual": "riskToOthersSexual",
    "others_fire": "riskToOthersFire", "others_animals": "riskToOthersAnimals",
    "others_criminal": "riskToOthersCriminal",
}
PLACEMENT_TYPE = {**{code: "Foster" for code in ("U1", "U2", "U3", "U4", "U5", "U6")}, "K2": "Residential",
                  "K3": "Supported Accommodation"}
WIDER_AGE = {"under_1": "Under 10", "1_4": "Under 10", "5_9": "Under 10", "10_15": "10 to 15",
             "16_plus": "16 and over"}
SUPPRESSED = "suppressed"

# The standard's fields the extract does not carry, and why (tests check every other field is present).
WITHHELD = {
    "specificCommunicationRequirements": "required, no 'not stated' option: given by the needs column",
    "homeAdaptation": "required, no 'not stated' option: given by the needs column",
    **{name: "required, no 'not stated' option: given by the risks column" for name in RISK_FIELDS.values()},
    "riskOther": "free text",
    "riskToOthersOther": "free text",
    "providerURN": "gives the setting's address through Ofsted's register, finer than the generalised location",
    "referralOfficerName": "officers' names are not shared",
    "placementOfficerName": "officers' names are not shared",
    "costOfficerName": "officers' names are not shared",
}

HEADER = (
    "childId", "localAuthority", "localAuthorityName", "referralDate", "referralPeriod", "placementDate", "placementPeriod", "costDate",
    "neededBy", "siblingCount", "preferredLocation", "ageBand",
    "communicationNeeds", "needs", "additionalSupport", "deprivationOfLiberty",
    "culturalNeeds", "livingCompanions", "pets",
    "fosterCareSuitability", "residentialCareSuitability", "supportedAccommodationSuitability",
    "risks",
    "totalWeeklyCost", "placementLocation", "preferabilityLocation", "educationContinuity",
    "siblingsPlacedTogether", "placementType",
)

# The quasi-identifiers, in the order a tie is broken (the first listed is generalised first), and the columns
# each one sets. LA is the partition; placementType has only its exact level.
QUASI_IDENTIFIERS = (
    QuasiIdentifier("needs", ("exact", "count and highest support", "any", SUPPRESSED)),
    QuasiIdentifier("risks", ("exact", "count", "any", SUPPRESSED)),
    QuasiIdentifier("placement location", ("postcode district", "postcode area", "in or outside the region")),
    QuasiIdentifier("home location", ("postcode district", "postcode area", SUPPRESSED)),
    QuasiIdentifier("dates", ("month", "quarter", "year", "12 months")),
    QuasiIdentifier("age", ("age band", "wider age band", "all ages")),
    QuasiIdentifier("placement type", ("exact",)),
)
QI_COLUMNS = {
    "needs": ("communicationNeeds", "needs", "additionalSupport", "deprivationOfLiberty"),
    "risks": ("risks",),
    "placement location": ("placementLocation",),
    "home location": ("preferredLocation",),
    "dates": ("referralDate", "referralPeriod", "placementDate", "placementPeriod", "costDate"),
    "age": ("ageBand",),
    "placement type": ("placementType",),
}
# Every column a reviewer must count classes over: the LA and each quasi-identifier's columns.
QUASI_IDENTIFIER_COLUMNS = ("localAuthority", *(c for qi in QUASI_IDENTIFIERS for c in QI_COLUMNS[qi.name]))


@dataclass(frozen=True)
class Extract:
    """The generalised rows (HEADER order) and what was done to get them, for the page and the audit."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    placements: int  # placements in the period and area
    not_in_standard: int  # left out: an SSDA903 type the standard's placementType has no option for
    suppressed: int  # dropped: still in a class of fewer than K children after generalising
    levels: dict[str, dict[str, str]]  # LA code -> quasi-identifier -> level used
    k: int = K


# --------------------------------------------------------------------------------- the steps of each hierarchy

def _months(day: date, period_start: date) -> tuple[tuple[str, date], ...]:
    """(period words, first day) at month, quarter, year and twelve-month block. The blocks are the market's
    consecutive periods (filters.periods), aligned on the chosen period's first month."""
    quarter = (day.month - 1) // 3
    back = (day.year * 12 + day.month - 1) - (period_start.year * 12 + period_start.month - 1)
    index = period_start.year * 12 + period_start.month - 1 + 12 * (back // 12)
    first = date(index // 12, index % 12 + 1, 1)
    last = date((index + 11) // 12, (index + 11) % 12 + 1, 1)
    return ((f"{day.year:04d}-{day.month:02d}", day.replace(day=1)),
            (f"{day.year:04d}-Q{quarter + 1}", date(day.year, quarter * 3 + 1, 1)),
            (f"{day.year:04d}", date(day.year, 1, 1)),
            (f"{first:%Y-%m} to {last:%Y-%m}", first))


def _count(n: int) -> str:
    return "3 or more" if n >= 3 else str(n)


def _age_band(dob: date, on: date) -> str:
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    return "under_1" if age < 1 else "1_4" if age < 5 else "5_9" if age < 10 else "10_15" if age < 16 else "16_plus"


def _district(postcode: str | None) -> tuple[str, str]:
    if not postcode:
        return "", ""
    try:
        district = geo.postcode_district(postcode)
    except geo.InvalidPostcode:
        return "", ""
    # The postcode area: the district's leading letters ("B15" -> "B", "CV1" -> "CV").
    return district, district[:2] if district[1:2].isalpha() else district[:1]


def _highest_support(needs: Sequence[str], other: str | None) -> str:
    for code, words in ADDITIONAL_SUPPORT.items():
        if code in needs:
            return words
    return "other (please specify)" if other and other.strip() else "NA"


def _needs_levels(needs: Sequence[str], other: str | None) -> tuple[tuple[str, ...], ...]:
    listed = [NEED_WORDS[c] for c in NEED_WORDS if c in needs]
    communication = "Y" if any(c in needs for c in COMMUNICATION) else "N"
    dol = "true" if "deprivation_of_liberty" in needs else "false"
    support = _highest_support(needs, other)
    return (
        (communication, ";".join(listed) or "None", support, dol),
        ("Not Specified", _count(len(listed)), support, ""),
        ("Not Specified", "Some" if listed else "None", "", ""),
        ("Not Specified", SUPPRESSED, "", ""),
    )


def _risks_levels(risks: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    listed = [field for code, field in RISK_FIELDS.items() if code in risks]
    return ((";".join(listed) or "None",), (_count(len(listed)),), ("Some" if listed else "None",), (SUPPRESSED,))


def _yes_no(value: bool | None) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------------------------- the extract

@dataclass
class _Record:
    la: str
    child: str
    fixed: dict[str, str]  # columns that are not quasi-identifiers
    levels: list[tuple[tuple[str, ...], ...]]  # per quasi-identifier, per level, the values of its columns


def _record(row, period_start: date) -> _Record | None:
    (la, child_reference, submitted_at, start, urgency, sibling_count, home, dob, needs, risks, support_other,
     cultural, companions, pets, foster, residential, supported, cost, where_postcode, where_la, inside,
     education, together, code) = row
    kind = PLACEMENT_TYPE.get(code)
    if kind is None:
        return None
    needs, risks = list(needs or ()), list(risks or ())
    home_district, home_area = _district(home)
    where_district, where_area = _district(where_postcode)
    region = "West Midlands" if where_la and geo.is_west_midlands(where_la) else "Outside the West Midlands"
    referral = submitted_at.date() if submitted_at else start
    dates = [(r_words, r_day.isoformat(), p_words, p_day.isoformat(), p_day.isoformat())
             for (r_words, r_day), (p_words, p_day) in zip(_months(referral, period_start),
                                                                  _months(start, period_start))]
    band = _age_band(dob, start)
    fixed = {
        "localAuthority": la, "localAuthorityName": geo.la_name(la), "neededBy": NEEDED_BY.get(urgency, ""), "siblingCount": str(sibling_count or 0),
        "culturalNeeds": CULTURAL.get(cultural, "Not Known"),
        "livingCompanions": COMPANIONS.get(companions, "No preference"), "pets": PETS.get(pets, "Not Known"),
        "fosterCareSuitability": SUITABILITY.get(foster, NOT_SPECIFIED),
        "residentialCareSuitability": SUITABILITY.get(residential, NOT_SPECIFIED),
        "supportedAccommodationSuitability": SUITABILITY.get(supported, NOT_SPECIFIED),
        "totalWeeklyCost": f"{cost:.0f}" if cost is not None else "",
        "preferabilityLocation": _yes_no(inside), "educationContinuity": _yes_no(education),
        "siblingsPlacedTogether": str(together or 0),
    }
    levels = [
        _needs_levels(needs, support_other),
        _risks_levels(risks),
        ((where_district or where_area or region,), (where_area or region,), (region,)),
        ((home_district,), (home_area,), ("",)),
        tuple((r_day, r_words, p_day, p_words, c_day) for r_words, r_day, p_words, p_day, c_day in dates),
        ((AGE_BANDS[band],), (WIDER_AGE[band],), ("Under 18",)),
        ((kind,),),
    ]
    return _Record(la, f"{la}:{child_reference}", fixed, levels)


def build_extract(f: MarketFilters, *, k: int = K, budget: float = SUPPRESSION_BUDGET) -> Extract:
    """The generalised extract for the period and area of `f` (see the module docstring)."""
    records: list[_Record] = []
    placements = 0
    for row in queries.extract_rows(f):
        placements += 1
        record = _record(row, f.period.start)
        if record is not None:
            records.append(record)
    return generalise(records, placements=placements, k=k, budget=budget)


def generalise(records: Sequence[_Record], *, placements: int, k: int = K,
               budget: float = SUPPRESSION_BUDGET) -> Extract:
    """Choose the levels, drop the rows at risk, number and sort what is left."""
    values = [[tuple(map("\x1f".join, qi_levels)) for qi_levels in r.levels] for r in records]
    result: Anonymised = anonymise(values, [r.child for r in records], [r.la for r in records],
                                   QUASI_IDENTIFIERS, k=k, budget=budget)
    chosen = {p.key: p.levels for p in result.partitions}
    rows: list[tuple[str, ...]] = []
    for i in result.kept:
        record = records[i]
        cells = dict(record.fixed)
        for q, qi in enumerate(QUASI_IDENTIFIERS):
            cells.update(zip(QI_COLUMNS[qi.name], record.levels[q][chosen[record.la][q]]))
        rows.append(tuple(cells.get(column, "") for column in HEADER[1:]))
    rows.sort()
    numbered = tuple((str(n), *row) for n, row in enumerate(rows, start=1))
    levels = {la: {qi.name: qi.levels[level] for qi, level in zip(QUASI_IDENTIFIERS, chosen[la])}
              for la in sorted(chosen)}
    return Extract(HEADER, numbered, placements, placements - len(records), result.suppressed, levels, k)


def as_dicts(extract: Extract) -> Iterable[dict[str, str]]:
    return (dict(zip(extract.header, row)) for row in extract.rows)
