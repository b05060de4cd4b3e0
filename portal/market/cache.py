"""Market pages computed once per data version, per process (issue 16 §4).

A market page counts the whole region's data: hundreds of milliseconds of grouped queries, suppression and
percentiles, the same for everyone who asks for the same view. Each process keeps the pages it built, keyed by
the page, the view (filters, the person's default LA, today) and the context (suppression threshold, LAs), under
the data version they were built at (portal/options/versions.py): the counter moves with every committed change
to the region's data, so the next request after a change builds the page again from the database, and every
process and host serves figures of the same data. Nothing here is shared between processes, and nothing is kept
that the page does not show: the kept object is the built page (suppressed cells, tables and charts), never a row
of the data (tests/market/test_market_cache.py checks both).

One builder at a time per page and view: requests arriving while a page is being built wait for it (a single
flight), so a burst of commissioners after a change costs one build per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

from flask import current_app

from portal.market.reports import CohortRefused
from portal.options import get_data_version

MAX_PAGES = 256  # views kept per process: pages of a few tens of kilobytes each


class _Refusal:
    """A view too narrow to show, kept as its reasons (an exception is made afresh for each request)."""

    def __init__(self, error: CohortRefused) -> None:
        self.message, self.widen = error.message, list(error.widen)

    def raise_(self):
        raise CohortRefused(self.message, self.widen)


class PageCache:
    """Built pages by (key, data version), least recently used first out. Thread-safe."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple, object] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self.builds = 0  # how many pages this process has built (for tests and benchmarks)

    def get(self, key: Hashable, build: Callable[[], object]):
        full = (get_data_version(), key)
        found = self._find(full)
        if found is None:
            with self._lock:
                gate = self._building.setdefault(full, threading.Lock())
            with gate:
                found = self._find(full)
                if found is None:
                    try:
                        found = build()
                    except CohortRefused as error:
                        found = _Refusal(error)
                    self._keep(full, found)
            with self._lock:
                self._building.pop(full, None)
        if isinstance(found, _Refusal):
            found.raise_()
        return found

    def _find(self, full: tuple):
        with self._lock:
            found = self._pages.get(full)
            if found is not None:
                self._pages.move_to_end(full)
            return found

    def _keep(self, full: tuple, page: object) -> None:
        with self._lock:
            self.builds += 1
            version = full[0]
            # Pages of an older version will not be asked for again: drop them at once.
            for old in [k for k in self._pages if k[0] < version]:
                del self._pages[old]
            self._pages[full] = page
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)

    def values(self) -> list[object]:
        with self._lock:
            return list(self._pages.values())


def page_cache() -> PageCache:
    """This app's cache of market pages (on app.extensions, like the options index)."""
    cache = current_app.extensions.get("portal_market_pages")
    if cache is None:
        cache = current_app.extensions.setdefault("portal_market_pages", PageCache())
    return cache


def cached_page(name: str, f, ctx, build: Callable[[], object]):
    """The page `name` for view `f` and context `ctx`, built by `build` once per data version in this process."""
    return page_cache().get((name, f, ctx), build)
