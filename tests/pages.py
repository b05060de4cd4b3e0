"""Read pages as a person does: headings, summary lists, tables, error messages, links and banners.

    page = get_page(client, f"/requests/{req.id}")            # checks the status (200 unless told)
    assert page.h1 == "Amara Okafor"
    assert page.summary()["Home postcode"] == "CV1 2AB"
    assert ["Willow household", ...] in page.table_rows("matches-table")
    assert page.errors == ["Enter the child's first name"]
    page = post_page(client, url, data, status=422)

Like GOV.UK Notify's `client_request`: the helper checks the status it was told to expect and returns the page
parsed (BeautifulSoup), so tests assert on what a person reads, not on fragments of raw HTML.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag


def _text(node: Tag | None) -> str:
    """The text a person reads in an element: whitespace collapsed, visually hidden helper text kept."""
    if node is None:
        return ""
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()


class Page:
    def __init__(self, html: str, status: int = 200):
        self.html = html
        self.status = status
        self.soup = BeautifulSoup(html, "html.parser")

    # --- what the whole page says
    @property
    def main(self) -> Tag:
        return self.soup.find("main") or self.soup

    @property
    def text(self) -> str:
        """The main content's text, as one line."""
        return _text(self.main)

    @property
    def title(self) -> str:
        return _text(self.soup.find("title"))

    @property
    def h1(self) -> str:
        return _text(self.soup.find("h1"))

    @property
    def headings(self) -> list[str]:
        return [_text(h) for h in self.main.find_all(["h1", "h2", "h3"])]

    # --- GOV.UK components
    @property
    def errors(self) -> list[str]:
        """The error summary's messages, in order."""
        summary = self.soup.select_one(".govuk-error-summary")
        return [_text(li) for li in summary.select(".govuk-error-summary__list li")] if summary else []

    def field_error(self, name: str) -> str:
        """The error message shown at a form field (by its name or id), without the hidden "Error:" prefix."""
        field = self.soup.find(attrs={"name": name}) or self.soup.find(id=name)
        group = field.find_parent(class_="govuk-form-group") if field is not None else None
        message = group.select_one(".govuk-error-message") if group is not None else None
        return _text(message).removeprefix("Error:").strip()

    def value(self, name: str) -> str | None:
        """What a text input or textarea holds (to check a form kept what the user typed)."""
        field = self.soup.find(attrs={"name": name})
        if field is None:
            return None
        return field.get_text() if field.name == "textarea" else field.get("value")

    @property
    def banners(self) -> list[str]:
        """Notification banners (flash messages) and inset "error" paragraphs shown at the top."""
        return [_text(b) for b in self.soup.select(".govuk-notification-banner")]

    def summary(self, selector: str = ".govuk-summary-list") -> dict[str, str]:
        """A summary list as key -> value (the first one, or the one `selector` picks)."""
        out: dict[str, str] = {}
        for block in self.soup.select(selector):
            for row in block.select(".govuk-summary-list__row"):
                key = _text(row.select_one(".govuk-summary-list__key"))
                if key and key not in out:
                    out[key] = _text(row.select_one(".govuk-summary-list__value"))
        return out

    def table(self, testid_or_selector: str | None = None) -> Tag | None:
        if testid_or_selector is None:
            return self.main.find("table")
        return (self.soup.find(attrs={"data-testid": testid_or_selector})
                or self.soup.select_one(testid_or_selector))

    def table_rows(self, testid_or_selector: str | None = None) -> list[list[str]]:
        """The body rows of a table (picked by data-testid, CSS selector, or the first one), as cell texts."""
        table = self.table(testid_or_selector)
        if table is None:
            return []
        if table.name != "table":
            table = table.find("table") or table
        body = table.find("tbody") or table
        return [[_text(cell) for cell in row.find_all(["th", "td"])] for row in body.find_all("tr")
                if row.find_parent("thead") is None]

    def column(self, testid_or_selector: str | None, index: int = 0) -> list[str]:
        return [row[index] for row in self.table_rows(testid_or_selector) if len(row) > index]

    def pagination(self, which: int = 0) -> tuple[int, int] | None:
        """(current page, number of pages) as the list's GOV.UK pagination shows them (the last page's number is
        always shown), or None when the list has one page only."""
        navs = self.soup.select("nav.govuk-pagination")
        if len(navs) <= which:
            return None
        numbers = [int(_text(item)) for item in navs[which].select(".govuk-pagination__item")
                   if _text(item).isdigit()]
        current = navs[which].select_one('[aria-current="page"]')
        return int(_text(current)), max(numbers)

    def sorted_by(self, table: str | None = None) -> tuple[str, str] | None:
        """(the sorted column's header, "ascending" or "descending") of a table with sortable headers."""
        found = self.table(table)
        header = found.find("th", attrs={"aria-sort": re.compile("^(ascending|descending)$")}) if found else None
        if header is None:
            return None
        link = header.find(["a", "button"])
        return "".join(link.find_all(string=True, recursive=False)).strip(), header["aria-sort"]

    @property
    def links(self) -> dict[str, str]:
        """Link text -> href, for the main content."""
        return {_text(a): a.get("href", "") for a in self.main.find_all("a")}

    def hrefs(self, pattern: str) -> list[str]:
        """Every href in the page matching a regular expression."""
        return [a["href"] for a in self.soup.find_all("a", href=True) if re.search(pattern, a["href"])]

    def form_actions(self, pattern: str = "") -> list[str]:
        return [f.get("action", "") for f in self.soup.find_all("form") if re.search(pattern, f.get("action", ""))]

    def find(self, *args, **kwargs):
        return self.soup.find(*args, **kwargs)

    def select(self, selector: str):
        return self.soup.select(selector)

    def testid(self, name: str) -> str:
        """The text of the element with this data-testid ("" when absent)."""
        return _text(self.soup.find(attrs={"data-testid": name}))


def _page(response, status: int) -> Page:
    assert response.status_code == status, f"expected {status}, got {response.status_code}"
    return Page(response.get_data(as_text=True), response.status_code)


def get_page(client, url: str, status: int = 200, **kwargs) -> Page:
    return _page(client.get(url, **kwargs), status)


def post_page(client, url: str, data: dict | None = None, status: int = 200, **kwargs) -> Page:
    return _page(client.post(url, data=data or {}, **kwargs), status)
