"""The matching core: explainable ranking and a certified region-wide allocation (issue 3, DESIGN.md §4).

Pure: standard library, NumPy, rapidfuzz and OR-Tools only (plus `portal.geo`, imported lazily to resolve
postcodes in problem files). No Flask, no SQLAlchemy, no database; tests/matching/test_purity.py enforces it.
The format, rules, scores and policy defaults are documented in docs/matching.md.

    index = OptionIndex.build(options)              # once, and again when vacancies change
    result = rank(request, index, siblings=...)     # RankResult: matches best first, exclusions with reasons
    allocation = allocate(requests, index)          # Allocation: assignments, unplaced with reasons, bound, gap
    problems = validate_allocation(requests, index, allocation)
"""

from .eligibility import check_option
from .fuzzy import find_duplicate_requests, match_connected_person, normalise_name
from .policy import DEFAULT_POLICY, Policy
from .problem import (
    Problem,
    ProblemError,
    allocate_problem,
    option_record,
    parse_problem,
    rank_problem,
    request_record,
)
from .rank import (
    OptionIndex,
    eligible_count,
    eligible_options,
    explain_exclusions,
    fitting_options,
    fitting_scores,
    rank,
)
from .scoring import score_option
from .solver import allocate, greedy_assign
from .types import (
    Allocation,
    Assignment,
    CarerRecord,
    ChildRecord,
    Exclusion,
    GridPoint,
    Match,
    OptionSpec,
    RankResult,
    RequestSpec,
    ScorePart,
    Suggestion,
    Unplaced,
)
from .validation import validate_allocation

__all__ = [
    "DEFAULT_POLICY", "Allocation", "Assignment", "CarerRecord", "ChildRecord", "Exclusion", "GridPoint", "Match",
    "OptionIndex", "OptionSpec", "Policy", "Problem", "ProblemError", "RankResult", "RequestSpec", "ScorePart",
    "Suggestion", "Unplaced", "allocate", "allocate_problem", "check_option", "eligible_count", "eligible_options",
    "explain_exclusions", "find_duplicate_requests", "fitting_options", "fitting_scores", "greedy_assign",
    "match_connected_person", "normalise_name", "option_record",
    "parse_problem", "rank", "rank_problem", "request_record", "score_option", "validate_allocation",
]
