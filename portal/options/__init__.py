"""The options every feature matches against: open vacancies (and a child's connected persons) as the matching
core's types, the per-process index of them, and the version counters (options, data) that keep processes in step.

This package sits below the features (DESIGN.md §3): requests, providers, market and allocation all use it, and it
imports none of them, only the models, the database and the pure core.
"""

from portal.options.index import (
    OptionInfo,
    OptionsCache,
    OptionsSnapshot,
    ProviderOptions,
    current_options,
    init_app,
)
from portal.options.specs import (
    connected_person_options,
    group_request_ids,
    open_problem,
    placed_together,
    referral_children,
    request_spec,
    sibling_specs,
)
from portal.options.versions import bump_options_version, get_data_version, get_options_version, track_data_changes

__all__ = [
    "OptionInfo", "OptionsCache", "OptionsSnapshot", "ProviderOptions", "bump_options_version", "connected_person_options",
    "current_options", "get_data_version", "get_options_version", "group_request_ids", "init_app", "open_problem", "placed_together", "referral_children",
    "request_spec", "sibling_specs", "track_data_changes",
]
