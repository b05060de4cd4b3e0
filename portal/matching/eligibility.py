"""Hard rules (DESIGN.md §4, items 1-7): which options a child can be placed in, and why not the others.

Each failed check gives one sentence a person can read. The sentences are made here, by the `*_reason`
functions, for both the scalar reference (`check_option`, used by validation.py and the tests) and the vectorised
index in rank.py, which computes the same checks on arrays and asks these functions for the words.

Checks, in the order their reasons are listed:

=================  ====  ==========================================================================================
check              rule  fails when
=================  ====  ==========================================================================================
cp_other_child     s22C  a connected person put forward for another child (not this child or a sibling in the group)
cp_stage           s22C  a connected person not yet at an assessment stage the policy allows (only "identified")
suitability        1     the option's setting type is marked unsuitable (a connected person is a foster placement)
age                2     the child's age on the needed-by date is outside the option's age range
under_16           2     supported accommodation for a child under 16
sex                3     the option does not take the child's sex
places             4     free places (one for a solo-only setting) do not cover the sibling group, or no siblings taken
needs              5     a need the option does not say it meets
risks              5     a present risk the option does not say it manages
availability       6     not available by the needed-by date
approval           6     the provider is not approved
ofsted             6     rated Inadequate
pets               7     the child cannot live with pets and there are pets, or must and there are none
solo               7     the child needs to be cared for alone and the option is not solo-only
avoid_la           7     the option is in a local authority the child's plan rules out
=================  ====  ==========================================================================================

A sibling group to be placed together is one unit (issue 11 §1): an option is eligible for the group only when it
passes every sibling's rules, and the group has one list of exclusions, the same from every sibling's page. A
reason every sibling shares (the places, the Ofsted rating, a need both have) is listed once as it is; a reason
that holds for some siblings only names the child: "Boy aged 11: Needs not met: Therapeutic support"
(`merge_reasons`). Siblings are named by sex and age, eldest first (`member_labels`): the core never sees a name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from . import vocabulary as vocab
from .policy import Policy
from .types import OptionSpec, RequestSpec

__all__ = ["CHECKS", "Group", "check_group", "check_option", "format_date", "group_for", "group_members",
           "member_labels", "merge_reasons"]

CHECKS: tuple[str, ...] = (
    "cp_other_child", "cp_stage", "suitability", "age", "under_16", "sex", "places", "needs", "risks",
    "availability", "approval", "ofsted", "pets", "solo", "avoid_la",
)

SUPPORTED_MIN_AGE = 16  # Supported accommodation is for 16- and 17-year-olds (Supported Accommodation Regs 2023)


@dataclass(frozen=True, slots=True)
class Group:
    """The sibling group a request is ranked with: the ids of all its members (including itself)."""

    ids: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.ids)


def group_for(request: RequestSpec, siblings: Iterable[RequestSpec] = ()) -> Group:
    """The group of `request` and those `siblings` that share its sibling_group (others are ignored)."""
    return Group(frozenset(m.id for m in group_members(request, siblings)))


def group_members(request: RequestSpec, siblings: Iterable[RequestSpec] = ()) -> tuple[RequestSpec, ...]:
    """`request` and those `siblings` sharing its sibling_group, once each, eldest first (then by id).

    The order depends only on the group, never on which sibling asked, so every sibling's page gets one list.
    """
    members = {request.id: request}
    if request.sibling_group is not None:
        for s in siblings:
            if s.sibling_group == request.sibling_group:
                members.setdefault(s.id, s)
    return tuple(sorted(members.values(), key=lambda m: (-m.age_years, m.id)))


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def member_labels(members: Sequence[RequestSpec]) -> tuple[str, ...]:
    """How the sibling group's children are named in reasons: "Boy aged 11", "Girl aged 8"; twins of one sex get
    "Girl aged 8 (first)", "Girl aged 8 (second)" in the group's order."""
    words = {"female": "Girl", "male": "Boy"}
    base = [f"{words.get(m.sex, 'Child')} aged {m.age_years}" for m in members]
    seen: dict[str, int] = {}
    labels = []
    for label in base:
        if base.count(label) > 1:
            n = seen[label] = seen.get(label, 0) + 1
            label = f"{label} ({_ORDINALS[n - 1] if n <= len(_ORDINALS) else n})"
        labels.append(label)
    return tuple(labels)


def merge_reasons(labels: Sequence[str], per_member: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """One sibling group's reasons from each member's own: shared ones once, the rest naming the child."""
    if len(per_member) == 1:
        return tuple(per_member[0])
    shared = [r for r in per_member[0] if all(r in other for other in per_member[1:])]
    out = list(shared)
    for label, reasons in zip(labels, per_member):
        out.extend(f"{label}: {r}" for r in reasons if r not in shared)
    return tuple(out)


# ----------------------------------------------------------------------------------------------- sentences

def format_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _labels(codes: Iterable[str], table: dict[str, str]) -> str:
    order = {code: i for i, code in enumerate(table)}
    ordered = sorted(codes, key=lambda c: (order.get(c, len(order)), c))
    return ", ".join(table.get(code, code) for code in ordered)


def cp_other_child_reason() -> str:
    return "This connected person was put forward for another child"


def cp_stage_reason(stage: str) -> str:
    label = vocab.CONNECTED_PERSON_STAGES.get(stage, stage)
    return f"This connected person is at the stage '{label}': an assessment is needed before a placement"


def suitability_reason(setting_type: str) -> str:
    return f"{vocab.SETTING_TYPES[setting_type]} is marked unsuitable for this child"


def age_reason(age: int, age_min: int, age_max: int) -> str:
    return f"Age {age} is outside the setting's age range {age_min}\u2013{age_max}"


def under_16_reason(age: int) -> str:
    return f"Supported accommodation is for young people aged {SUPPORTED_MIN_AGE} and over; the child is {age}"


def sex_reason(sex: str) -> str:
    word = {"female": "girls", "male": "boys"}.get(sex)
    return f"This setting does not take {word}" if word else f"This setting does not take children recorded as {sex!r}"


def places_reason(places: int, takes_siblings: bool, solo_only: bool, group_size: int) -> str:
    if group_size > 1 and not takes_siblings:
        return f"This setting does not take sibling groups (the group has {group_size} children)"
    if group_size > 1 and solo_only:
        return f"This setting takes one child only; the sibling group has {group_size} children"
    if places <= 0:
        return "No free places"
    return f"{places} free place{'s' if places != 1 else ''}; the sibling group needs {group_size}"


def needs_reason(missing: Iterable[str]) -> str:
    return f"Needs not met: {_labels(missing, vocab.NEEDS)}"


def risks_reason(missing: Iterable[str]) -> str:
    return f"Risks not managed: {_labels(missing, vocab.RISKS)}"


def availability_reason(available_from: date, needed_by: date) -> str:
    return (f"Not available until {format_date(available_from)}; "
            f"the child needs a home by {format_date(needed_by)}")


def approval_reason() -> str:
    return "The provider is not approved"


def ofsted_reason() -> str:
    return "Rated Inadequate by Ofsted"


def pets_reason(child_pets: str) -> str:
    if child_pets == "must":
        return "The child must live with pets, and there are none here"
    return "The child cannot live with pets, and there are pets here"


def solo_reason() -> str:
    return "A solo placement is recommended for this child; this setting cares for other children too"


def avoid_la_reason(la: str) -> str:
    return f"The child's plan rules out placements in this local authority ({la})"


# ----------------------------------------------------------------------------------------------- the rules

def check_option(request: RequestSpec, option: OptionSpec, policy: Policy,
                 group: Group | None = None) -> tuple[str, ...]:
    """The reasons `option` is not eligible for `request` (empty when it is eligible). Scalar reference.

    `group` is the request's sibling group (see `group_for`); without it the child is placed alone.
    """
    group = group or Group(frozenset({request.id}))
    reasons: list[str] = []
    if option.kind == "connected_person":
        if option.for_request not in group.ids:
            reasons.append(cp_other_child_reason())
        if option.connected_stage not in policy.connected_person_stages:
            reasons.append(cp_stage_reason(option.connected_stage or ""))
    if request.suitability.get(option.setting_type, "suitable") == "unsuitable":
        reasons.append(suitability_reason(option.setting_type))
    if not option.age_min <= request.age_years <= option.age_max:
        reasons.append(age_reason(request.age_years, option.age_min, option.age_max))
    if option.kind == "supported" and request.age_years < SUPPORTED_MIN_AGE:
        reasons.append(under_16_reason(request.age_years))
    if request.sex not in option.sexes:
        reasons.append(sex_reason(request.sex))
    if (option.capacity < group.size) or (group.size > 1 and not option.takes_siblings):
        reasons.append(places_reason(option.capacity, option.takes_siblings, option.solo_only, group.size))
    missing_needs = request.needs - option.needs_met
    if missing_needs:
        reasons.append(needs_reason(missing_needs))
    missing_risks = request.risks - option.risks_managed
    if missing_risks:
        reasons.append(risks_reason(missing_risks))
    if option.available_from > request.needed_by:
        reasons.append(availability_reason(option.available_from, request.needed_by))
    if not option.provider_approved:
        reasons.append(approval_reason())
    if option.ofsted == "inadequate":
        reasons.append(ofsted_reason())
    if (request.pets == "no" and option.has_pets) or (request.pets == "must" and not option.has_pets):
        reasons.append(pets_reason(request.pets))
    if request.living_companions == "solo" and not option.solo_only:
        reasons.append(solo_reason())
    if option.la in request.avoid_las:
        reasons.append(avoid_la_reason(option.la))
    return tuple(reasons)



def check_group(members: Sequence[RequestSpec], option: OptionSpec, policy: Policy) -> tuple[str, ...]:
    """The reasons `option` is not eligible for a sibling group placed together (scalar reference).

    `members` in the group's order (`group_members`). Empty when the option passes every sibling's rules.
    """
    group = Group(frozenset(m.id for m in members))
    return merge_reasons(member_labels(members), [check_option(m, option, policy, group) for m in members])
