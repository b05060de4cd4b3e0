"""Template filters: templates present, filters format (STYLE.md habit 10)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask

from portal.matching import vocabulary
from portal.models import (
    CONTRACTS,
    PROVIDER_KINDS,
    RE_ENTRY_DECISIONS,
    RE_ENTRY_FOUND_BY,
    REQUEST_STATUSES,
    ROLES,
    WITHDRAWAL_REASONS,
)

LONDON = ZoneInfo("Europe/London")


def format_gbp(value: Decimal | float | int | None) -> str:
    if value is None:
        return "Not set"
    amount = Decimal(value)
    return f"£{amount:,.0f}" if amount == amount.to_integral() else f"£{amount:,.2f}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def format_miles(value: Decimal | float | None) -> str:
    if value is None:
        return ""
    return f"{float(value):.1f} miles"


def label(value: str | None, table: str) -> str:
    """Turn a stored vocabulary key into the words people read."""
    if value is None:
        return ""
    return LABEL_TABLES[table].get(value, value)


def labels(values, table: str) -> list[str]:
    return [label(v, table) for v in values or ()]


def children_summary(children) -> str:
    """A referral's children, anonymised, eldest first: "Male, age 11", or "Sibling group of 2: boy 11, girl 8"."""
    children = sorted(children, key=lambda c: (c.date_of_birth, c.id))
    if len(children) == 1:
        child = children[0]
        return f"{label(child.sex, 'sex')}, age {child.age_on(child.needed_by)}"
    words = {"male": "boy", "female": "girl"}
    return f"Sibling group of {len(children)}: " + ", ".join(
        f"{words.get(c.sex, 'child')} {c.age_on(c.needed_by)}" for c in children)


def la_name(code: str | None) -> str:
    """A West Midlands LA's name from its code or one of its districts' codes; settings may lie outside."""
    from portal import geo

    if not code:
        return ""
    try:
        return geo.la_name(geo.la_for_district(code) or code)
    except KeyError:
        return "Outside the West Midlands"


def format_percent(value: float | None) -> str:
    return "No decisions yet" if value is None else f"{value:.0%}"


def format_duration(value: timedelta | None) -> str:
    """'2 days 3 hours', '5 hours 10 minutes', 'under a minute'."""
    if value is None:
        return "No answers yet"
    minutes = int(value.total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    if days:
        return plural(days, "day") + (f" {plural(hours, 'hour')}" if hours else "")
    if hours:
        return plural(hours, "hour") + (f" {plural(mins, 'minute')}" if mins else "")
    return plural(mins, "minute") if mins else "under a minute"


def _tables() -> dict[str, dict[str, str]]:
    return {
        "urgency": vocabulary.URGENCY,
        "flag": vocabulary.MATCH_FLAGS,
        "setting_type": vocabulary.SETTING_TYPES,
        "option_kind": vocabulary.OPTION_KINDS,
        "suitability": vocabulary.SUITABILITY,
        "need": vocabulary.NEEDS,
        "risk": vocabulary.RISKS,
        "pets": vocabulary.PETS,
        "companions": vocabulary.LIVING_COMPANIONS,
        "cultural": vocabulary.CULTURAL_NEEDS,
        "sex": vocabulary.SEXES,
        "provider_code": vocabulary.PROVIDER_CODES,
        "ofsted": vocabulary.OFSTED_RATINGS,
        "placement_type": vocabulary.PLACEMENT_TYPES,
        "end_reason": vocabulary.PLACEMENT_END_REASONS,
        "stage": vocabulary.CONNECTED_PERSON_STAGES,
        "provider_kind": PROVIDER_KINDS,
        "contract": CONTRACTS,
        "request_status": REQUEST_STATUSES,
        "withdrawal_reason": WITHDRAWAL_REASONS,
        "decline_reason": vocabulary.DECLINE_REASONS,
        "re_entry_found_by": RE_ENTRY_FOUND_BY,
        "re_entry_decision": RE_ENTRY_DECISIONS,
        "role": ROLES,
    }


LABEL_TABLES: dict[str, dict[str, str]] = {}


def init_app(app: Flask) -> None:
    LABEL_TABLES.update(_tables())
    app.add_template_filter(format_gbp, "gbp")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_miles, "miles")
    app.add_template_filter(label, "label")
    app.add_template_filter(la_name, "la_name")
    app.add_template_filter(la_name, "setting_area")
    app.add_template_filter(format_percent, "percent")
    app.add_template_filter(format_duration, "duration")
    app.add_template_filter(labels, "labels")
    app.add_template_filter(children_summary, "children_summary")

    @app.context_processor
    def _service():
        return {"service_name": app.config["SERVICE_NAME"]}
