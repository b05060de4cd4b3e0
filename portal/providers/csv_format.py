"""The vacancies CSV file: its columns, reading an upload (shape only) and writing the download.

Pure: no Flask app or request, no database. Whether each setting and vacancy is the provider's own and still open is checked by
`services.bulk_update_vacancies`, which saves a whole file or nothing. The format is documented for providers in
docs/providers.md, "Bulk update by CSV".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from portal.forms import has_control_characters

# The same limits as the forms, so a file and a form accept the same values.
MAX_FEE_GBP = Decimal("100000")
MAX_PLACES = 50
URN_RE = re.compile(r"(?:SC)?[0-9]{6,7}")
URN_MESSAGE = "Enter an Ofsted URN in the correct format, like SC123456 or 2712345"


def normalise_urn(text: str) -> str:
    return "".join(text.split()).upper()


# The setting's name sits next to its id (issue 11 §5: a file names what its codes stand for); an upload may put
# the columns in any order.
CSV_COLUMNS = (
    "vacancy_id", "setting_id", "setting_name", "ofsted_urn", "places", "available_from", "available_to",
    "fee_gbp_week", "status",
)
CSV_REQUIRED = ("places", "available_from", "fee_gbp_week")
CSV_STATUSES = ("open", "held", "withdrawn")
CSV_MAX_ROWS = 1000
CSV_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@dataclass(frozen=True)
class CsvProblem:
    """One thing wrong with an uploaded file: `row` is the spreadsheet row (1 is the header), None for the file."""

    row: int | None
    column: str | None
    message: str


@dataclass(frozen=True)
class VacancyRow:
    row: int
    vacancy_id: str | None
    setting_id: str | None
    ofsted_urn: str | None
    places: int
    available_from: date
    available_to: date | None
    fee_gbp_week: Decimal
    status: str


def _csv_date(text: str) -> date:
    for fmt in CSV_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def _decode(data: bytes) -> tuple[str | None, CsvProblem | None]:
    if not data.strip():
        return None, CsvProblem(None, None, "The file is empty")
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None, CsvProblem(None, None, "The file is an Excel workbook, not a CSV file. In Excel choose "
                                            "File, Save as, 'CSV UTF-8 (comma delimited)' and upload that")
    if b"\x00" in data:
        return None, CsvProblem(None, None, "The file is not a CSV file (it contains binary data)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, CsvProblem(None, None, "The file is not saved as UTF-8. In Excel choose File, Save as, "
                                            "'CSV UTF-8 (comma delimited)' and upload that")


def parse_vacancy_csv(data: bytes) -> tuple[list[VacancyRow], list[CsvProblem]]:
    """Read an uploaded vacancies file. Returns the rows that are well formed and every problem found.

    A row with any problem is never returned, so it can never be half applied.
    """
    text, problem = _decode(data)
    if problem:
        return [], [problem]
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        records = list(reader)
    except csv.Error as error:
        return [], [CsvProblem(None, None, f"The file could not be read as CSV ({error})")]
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        return [], [CsvProblem(None, None, "The file is empty")]
    header = [h.strip().lower() for h in records[0]]
    problems: list[CsvProblem] = []
    for column in CSV_REQUIRED:
        if column not in header:
            problems.append(CsvProblem(1, column, f"The file has no '{column}' column"))
    if "setting_id" not in header and "ofsted_urn" not in header:
        problems.append(CsvProblem(1, "setting_id", "The file needs a 'setting_id' or an 'ofsted_urn' column"))
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    for column in duplicated:
        problems.append(CsvProblem(1, column, f"The '{column}' column appears more than once"))
    if problems:
        return [], problems
    body = records[1:]
    if not body:
        return [], [CsvProblem(None, None, "The file has a header row but no vacancies")]
    if len(body) > CSV_MAX_ROWS:
        return [], [CsvProblem(None, None, f"The file has {len(body):,} rows. Upload at most {CSV_MAX_ROWS:,} rows "
                                           "at a time")]
    position = {name: i for i, name in enumerate(header) if name in CSV_COLUMNS}
    rows: list[VacancyRow] = []
    seen_vacancy: dict[str, int] = {}
    seen_new: dict[tuple, int] = {}
    for number, record in enumerate(body, start=2):
        row_problems: list[CsvProblem] = []

        def cell(name: str) -> str:
            i = position.get(name)
            return record[i].strip() if i is not None and i < len(record) else ""

        def bad(column: str | None, message: str) -> None:
            row_problems.append(CsvProblem(number, column, message))

        # The same rule as every form field (issue 15 §7): a cell with a control character is refused whole,
        # before any other check can echo it back.
        refused = [header[i] if i < len(header) and header[i] else None
                   for i, value in enumerate(record) if has_control_characters(value)]
        if refused:
            for column in dict.fromkeys(refused):
                bad(column, f"Remove the control characters from the {column} column" if column
                    else "Remove the control characters from the row")
            problems.extend(row_problems)
            continue
        if len(record) > len(header):
            bad(None, f"The row has {len(record)} values but the header has {len(header)} columns")
        vacancy_id = cell("vacancy_id") or None
        setting_id = cell("setting_id") or None
        urn = normalise_urn(cell("ofsted_urn")) or None
        if vacancy_id is not None and not re.fullmatch(r"[0-9a-f]{32}", vacancy_id):
            bad("vacancy_id", f"'{vacancy_id}' is not a vacancy id: copy it from your vacancies download, or leave "
                              "it blank to add a vacancy")
        if setting_id is not None and not re.fullmatch(r"[0-9a-f]{32}", setting_id):
            bad("setting_id", f"'{setting_id}' is not a setting id: copy it from your settings page")
        if urn is not None and not URN_RE.fullmatch(urn):
            bad("ofsted_urn", f"'{urn}' is not an Ofsted URN. {URN_MESSAGE}")
        if vacancy_id is None and setting_id is None and urn is None:
            bad("setting_id", "Enter the setting_id or the ofsted_urn of the setting with the vacancy")

        places = None
        raw = cell("places")
        if not raw:
            bad("places", "Enter the number of places")
        else:
            try:
                places = int(raw)
            except ValueError:
                bad("places", f"'{raw}' is not a whole number of places")
            else:
                if not 1 <= places <= MAX_PLACES:
                    bad("places", f"Places must be between 1 and {MAX_PLACES}, not {places}"
                                  + (": to close a vacancy, set its status to withdrawn" if places <= 0 else ""))
        available_from = available_to = None
        raw = cell("available_from")
        if not raw:
            bad("available_from", "Enter the date the places are available from, like 2026-12-01")
        else:
            try:
                available_from = _csv_date(raw)
            except ValueError:
                bad("available_from", f"'{raw}' is not a real date: write it like 2026-12-01 or 01/12/2026")
        raw = cell("available_to")
        if raw:
            try:
                available_to = _csv_date(raw)
            except ValueError:
                bad("available_to", f"'{raw}' is not a real date: write it like 2026-12-31 or 31/12/2026")
            else:
                if available_from and available_to < available_from:
                    bad("available_to", "The end date is before the available-from date")
        fee = None
        raw = cell("fee_gbp_week").replace("£", "").replace(",", "")
        if not raw:
            bad("fee_gbp_week", "Enter the weekly fee, like 850")
        else:
            try:
                fee = Decimal(raw)
                if not fee.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                bad("fee_gbp_week", f"'{cell('fee_gbp_week')}' is not a number of pounds, like 850 or 850.50")
                fee = None
            else:
                if fee < 0 or fee > MAX_FEE_GBP:
                    bad("fee_gbp_week", "The weekly fee must be between £0 and £100,000")
                elif fee != fee.quantize(Decimal("0.01")):
                    bad("fee_gbp_week", "The weekly fee can have at most 2 decimal places (pence)")
        status = (cell("status") or "open").lower()
        if status not in CSV_STATUSES:
            bad("status", f"'{cell('status')}' is not a status: use open, held or withdrawn")
        elif status == "withdrawn" and vacancy_id is None:
            bad("status", "A new vacancy cannot be withdrawn: give the vacancy_id of the one to withdraw")

        if vacancy_id is not None and vacancy_id in seen_vacancy:
            bad("vacancy_id", f"This vacancy is already on row {seen_vacancy[vacancy_id]}: give each vacancy once")
        key = (setting_id, urn, places, available_from, available_to, fee, status)
        if vacancy_id is None and key in seen_new:
            bad(None, f"This row repeats row {seen_new[key]}: remove one of them")

        if row_problems:
            problems.extend(row_problems)
            continue
        if vacancy_id is not None:
            seen_vacancy[vacancy_id] = number
        else:
            seen_new[key] = number
        rows.append(VacancyRow(number, vacancy_id, setting_id, urn, places, available_from, available_to,
                               fee.quantize(Decimal("0.01")), status))
    return rows, problems


def _cell(value) -> str:
    """A value for a spreadsheet cell; text that a spreadsheet would run as a formula is made inert."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def vacancies_csv(vacancies) -> str:
    """The provider's open and held vacancies in the upload format: edit and upload it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for v in vacancies:
        writer.writerow([
            v.id, v.setting_id, _cell(v.setting.name), v.setting.ofsted_urn or "", v.places_free,
            v.available_from.isoformat(), v.available_to.isoformat() if v.available_to else "",
            f"{v.fee_gbp_week:.2f}", v.status,
        ])
    return "\ufeff" + out.getvalue()  # the byte-order mark makes Excel read it as UTF-8
