"""The filters every commissioner page takes, read from the query string and checked (shape and permission).

    region or one LA   la=region | la=E08000026        an LA commissioner starts on their own LA
    period             period=12m | 12m-1 | 12m-2        the last 12 months, the 12 before, the 12 before those
    placement type     type=foster | residential | supported
    age band           age=under_1 | 1_4 | 5_9 | 10_15 | 16_plus   (the DfE looked-after children bands)
    need or risk       need=<a need or risk code from portal.matching.vocabulary>

The periods are consecutive blocks of twelve whole months that do not overlap, so no combination of two periods'
totals is a new group of children (overlapping periods would let their difference single out a month; see
suppression.py). Anything else in the query string is ignored; a bad value is a
FilterError (400), another LA for an LA commissioner is a FilterForbidden (403).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from portal.matching import vocabulary as vocab

REGION = "region"

# DfE looked-after children statistics' age bands (age at the date that matters for the measure).
AGE_BANDS = dict(vocab.AGE_BANDS)
AGE_BAND_LOWER = {"under_1": 0, "1_4": 1, "5_9": 5, "10_15": 10, "16_plus": 16}
AGE_BAND_UPPER = {"under_1": 0, "1_4": 4, "5_9": 9, "10_15": 15, "16_plus": 17}
PLACEMENT_TYPES = dict(vocab.SETTING_TYPES)
NEEDS_AND_RISKS = {**vocab.NEEDS, **vocab.RISKS}
PERIODS_BACK = 2  # blocks of 12 months offered before the last 12


class FilterError(Exception):
    """A filter value the pages do not know (shown as a 400 page naming the filter)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class FilterForbidden(FilterError):
    """A filter value this person may not use (an LA commissioner asking for another LA)."""


@dataclass(frozen=True)
class Period:
    """Twelve whole calendar months: `start` is the 1st of the first, `end` the last day of the last."""

    key: str
    label: str
    start: date
    end: date

    @property
    def months(self) -> tuple[str, ...]:
        return month_range(self.start, self.end)

    @property
    def phrase(self) -> str:
        """The label inside a sentence: "the last 12 months (...)", "the 12 months before (...)"."""
        return ("the l" + self.label[1:]) if self.label.startswith("Last") else self.label[0].lower() + self.label[1:]


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(start: date, end: date) -> tuple[str, ...]:
    out = []
    day = start.replace(day=1)
    while day <= end:
        out.append(month_key(day))
        day = _add_months(day, 1)
    return tuple(out)


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{date(int(year), int(month), 1):%b %Y}"


def periods(today: date) -> dict[str, Period]:
    """The periods on offer today: the last 12 months (this month included) and the blocks of 12 before it."""
    first = _add_months(today.replace(day=1), -11)
    # Whole months: this month to its end, so a placement agreed today to start next week is in it.
    last = _add_months(today.replace(day=1), 1) - timedelta(days=1)
    out = {"12m": Period("12m", f"Last 12 months ({first:%B %Y} to {today:%B %Y})", first, last)}
    for back in range(1, PERIODS_BACK + 1):
        start = _add_months(first, -12 * back)
        end = _add_months(start, 12) - timedelta(days=1)
        words = "The 12 months before" if back == 1 else "The 12 months before that"
        out[f"12m-{back}"] = Period(f"12m-{back}", f"{words} ({start:%B %Y} to {end:%B %Y})", start, end)
    return out


def window(today: date) -> tuple[date, date]:
    """The first and last day any period covers: the range every cube is built over."""
    spans = periods(today).values()
    return min(p.start for p in spans), max(p.end for p in spans)


@dataclass(frozen=True)
class MarketFilters:
    """One view of the market. `la` None is the region; the others None mean "all"."""

    la: str | None
    period: Period
    type: str | None
    age: str | None
    need: str | None
    today: date
    default_la: str | None
    default_period: str = "12m"

    @property
    def narrowed(self) -> bool:
        """True when the person chose something narrower than the page they start on (the refusal rule applies)."""
        narrower_la = self.la is not None and self.la != self.default_la
        return bool(narrower_la or self.type or self.age or self.need)

    def args(self, **changes) -> dict[str, str]:
        """Query-string arguments for links to this view (or to this view with `changes`)."""
        f = replace(self, **changes) if changes else self
        out = {"la": f.la or REGION, "period": f.period.key}
        for name in ("type", "age", "need"):
            if getattr(f, name):
                out[name] = getattr(f, name)
        return out

    def widen(self, name: str) -> dict[str, str]:
        """Arguments for the same view without filter `name`."""
        if name == "la":
            return self.args(la=None)
        return self.args(**{name: None})

    @property
    def need_column(self) -> str | None:
        if self.need is None:
            return None
        return "needs" if self.need in vocab.NEEDS else "risks"

    def describe(self) -> list[tuple[str, str]]:
        """(filter, chosen value) in words, for captions, the summary page and the audit trail."""
        from portal.formatting import la_name

        return [
            ("Area", la_name(self.la) if self.la else "West Midlands region"),
            ("Period", self.period.label),
            ("Placement type", PLACEMENT_TYPES[self.type] if self.type else "All types"),
            ("Age band", AGE_BANDS[self.age] if self.age else "All ages"),
            ("Need or risk", NEEDS_AND_RISKS[self.need] if self.need else "Any"),
        ]

    @property
    def audit_detail(self) -> str:
        """The filters as codes only (never personal data), for the audit trail."""
        return "&".join(f"{k}={v}" for k, v in sorted(self.args().items()))


def parse_filters(args, *, user_la: str | None, la_codes: set[str], today: date) -> MarketFilters:
    """Read and check the filters. `la_codes` are the region's LA codes; `user_la` is an LA commissioner's LA."""
    on_offer = periods(today)

    def one(name: str) -> str | None:
        values = args.getlist(name) if hasattr(args, "getlist") else [args[name]] if name in args else []
        values = [v.strip() for v in values if v is not None and v.strip() != ""]
        if len(set(values)) > 1:
            raise FilterError(name, f"Choose one value for {name}, not {len(set(values))}.")
        return values[0] if values else None

    la = one("la")
    if la is None:
        la = user_la
    elif la == REGION:
        la = None
    elif la not in la_codes:
        raise FilterError("la", "Choose the West Midlands region or one of its 14 local authorities.")
    if la is not None and user_la is not None and la != user_la:
        raise FilterForbidden("la", "You can see your own local authority and the whole region, not another "
                                    "local authority on its own.")
    period_key = one("period") or "12m"
    if period_key not in on_offer:
        raise FilterError("period", "Choose the last 12 months or one of the earlier periods of 12 months offered.")
    placement_type = one("type")
    if placement_type is not None and placement_type not in PLACEMENT_TYPES:
        raise FilterError("type", "Choose foster care, residential care or supported accommodation.")
    age = one("age")
    if age is not None and age not in AGE_BANDS:
        raise FilterError("age", "Choose one of the age bands: under 1, 1 to 4, 5 to 9, 10 to 15, 16 and over.")
    need = one("need")
    if need is not None and need not in NEEDS_AND_RISKS:
        raise FilterError("need", "Choose one of the needs or risks listed.")
    return MarketFilters(la=la, period=on_offer[period_key], type=placement_type, age=age, need=need, today=today,
                         default_la=user_la)
