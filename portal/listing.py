"""Lists that scale (issue 11 §4): one page of a list, its total, and a stable order.

Every list of the portal is paged (`PER_PAGE` rows), says how many rows there are in all, and is sorted by one of
the orders it offers. A list's page and sort come from the query string (or, for the officer's requests, from the
posted filter form). Bad values are not worth an error page of their own and are never a 500: a page number that
is not a whole number from 1 to `MAX_PAGE` is the first page, one past the end is the last page, and a sort the
list does not offer is its default order. Every order ends with the row's id, so rows that tie (two requests
needed on the same day) keep their places and a page holds the same rows however often it is asked for.

    sort = listing.sort_choice(request.args.get("sort"), SORTS, "-created")   # in the view
    paged = listing.paginate(query.order_by(*order, Model.id), page=page)      # in queries.py
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.db import db

T = TypeVar("T")

PER_PAGE = 50
MAX_PAGE = 100_000


def page_number(value: Any) -> int:
    """A list's page number from a query string or form: a whole number from 1 to MAX_PAGE, else the first page
    (a tampered or stale number is not an error worth a page of its own)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_PAGE else 1


@dataclass(frozen=True)
class Sort:
    """One of a list's orders: its key (as `sort=` names it) and its direction."""

    key: str
    descending: bool = False

    @property
    def value(self) -> str:
        """As the query string says it: `needed_by` (ascending) or `-updated` (descending)."""
        return ("-" if self.descending else "") + self.key

    @property
    def aria(self) -> str:
        return "descending" if self.descending else "ascending"


def sort_choice(value: Any, keys: Sequence[str], default: str) -> Sort:
    """The order asked for (`key` ascending, `-key` descending) if the list offers that key, else `default`
    (written the same way)."""
    for text in (str(value or "").strip(), default):
        key = text.removeprefix("-")
        if key in keys:
            return Sort(key, text.startswith("-"))
    raise ValueError(f"the default order {default!r} is not one of {list(keys)}")


def choice(value: Any, choices: Mapping[str, Any] | Sequence[str]) -> str | None:
    """A filter's value if it is one of `choices`, else None (no filter): a stale or tampered link still lists."""
    return value if isinstance(value, str) and value in choices else None


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list: its rows, how many rows the whole list has, and where the page is in it."""

    items: list[T]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (1-based; 0 when the list is empty)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def page_arg(self) -> int | None:
        """This page's number for the links of another list on the same page, which keep this one where it is
        (None on the first page: no need to say it)."""
        return self.page if self.page > 1 else None

    @property
    def numbers(self) -> list[int | None]:
        """The page numbers the pagination shows (GOV.UK pattern): the first, the last, the current page and its
        neighbours, with None for the gaps between them (shown as an ellipsis)."""
        wanted = sorted({1, self.pages, self.page - 1, self.page, self.page + 1} & set(range(1, self.pages + 1)))
        out: list[int | None] = []
        for number in wanted:
            if out and number - out[-1] > 1:
                out.append(None)
            out.append(number)
        return out

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def _clamped(page: int, total: int, per_page: int) -> int:
    """A page past the end (the list got shorter, or a tampered number) is the last page."""
    return min(max(1, page), max(1, -(-total // per_page)))


def count(query: Select) -> int:
    """How many rows `query` finds (its order dropped)."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def paginate(query: Select, *, page: int, per_page: int | None = None, total: int | None = None,
             scalars: bool = True) -> Paged:
    """One page of `query` (already in its stable order) and the total: a COUNT, then LIMIT / OFFSET.

    `total` may be given when the caller counts more cheaply; `scalars=False` keeps rows of several entities.
    `per_page` is PER_PAGE unless told (read when called, so a test can make pages small).
    """
    per_page = per_page or PER_PAGE
    if total is None:
        total = count(query)
    page = _clamped(page, total, per_page)
    window = query.offset((page - 1) * per_page).limit(per_page)
    rows = list(db.session.scalars(window)) if scalars else [tuple(row) for row in db.session.execute(window)]
    return Paged(rows, total, page, per_page)


def paginate_rows(rows: Sequence[T], *, page: int, per_page: int | None = None) -> Paged[T]:
    """One page of a list already in memory (ranked in Python: fuzzy search results, why-not homes)."""
    per_page = per_page or PER_PAGE
    page = _clamped(page, len(rows), per_page)
    start = (page - 1) * per_page
    return Paged(list(rows[start:start + per_page]), len(rows), page, per_page)


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """What a list's template needs to draw its pages and sortable headers (templates/macros/pagination.html):
    the page, the order in force, and where the links go: `endpoint` with the list's filters (`args`), or, with
    `form`, the buttons of that posted form (whose filters may hold a child's name, which never goes in a URL)."""

    paged: Paged[T]
    sort: Sort | None = None
    endpoint: str | None = None
    args: Mapping[str, Any] | None = None
    default_sort: str | None = None
    form: str | None = None
    param: str = "page"  # the page's name in the query string (two lists on one page need two)
    anchor: str | None = None  # where on the page a link goes back to (the list's heading)

    @property
    def link_args(self) -> dict[str, Any]:
        """The filters and the order (when it is not the default) every link of the list keeps."""
        args = {key: value for key, value in (self.args or {}).items() if value not in (None, "")}
        if self.sort is not None and self.sort.value != self.default_sort:
            args["sort"] = self.sort.value
        return args

    def next_sort(self, key: str, first_descending: bool = False) -> str:
        """What a column's header asks for: the other direction when the list is sorted by it, else its own
        first direction (newest first for a date of change, A to Z for a name)."""
        if self.sort is not None and self.sort.key == key:
            return Sort(key, not self.sort.descending).value
        return Sort(key, first_descending).value
