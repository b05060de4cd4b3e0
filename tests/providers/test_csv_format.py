"""The vacancies CSV format, read without a database: every kind of bad file and bad row is reported with its row
and column, and a row with any problem is never returned (so it can never be half applied)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.providers.csv_format import CSV_MAX_ROWS, parse_vacancy_csv

SETTING = "a" * 32
VACANCY = "b" * 32
TOMORROW = (date.today() + timedelta(days=1)).isoformat()
HEADER = "vacancy_id,setting_id,ofsted_urn,setting_name,places,available_from,available_to,fee_gbp_week,status\n"


def parse(text: str):
    return parse_vacancy_csv(text.encode("utf-8"))


def test_a_good_file_in_any_column_order_with_excel_bom_and_pound_signs():
    text = (f"Fee_GBP_Week,places,available_from,setting_id,status\r\n"
            f'"£1,250.50",2,{TOMORROW},{SETTING},\r\n'
            f"800,1,01/12/2030,{SETTING},held\r\n\r\n")
    rows, problems = parse_vacancy_csv(b"\xef\xbb\xbf" + text.encode())
    assert problems == []
    assert [(r.row, r.places, r.fee_gbp_week, r.status) for r in rows] == [
        (2, 2, Decimal("1250.50"), "open"), (3, 1, Decimal("800.00"), "held")]
    assert rows[1].available_from == date(2030, 12, 1) and rows[0].setting_id == SETTING


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty"),
    (b" \r\n \r\n", "The file is empty"),
    (HEADER.encode(), "The file has a header row but no vacancies"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel workbook, not a CSV file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file (it contains binary data)"),
    (("setting_name,places,available_from,fee_gbp_week,setting_id\nCaf\xe9 House,1," + TOMORROW + ",800," + SETTING)
     .encode("latin-1"), "not saved as UTF-8"),
    ((HEADER + "".join(f",{SETTING},,,1,{TOMORROW},,800,\n" for _ in range(CSV_MAX_ROWS + 1))).encode(),
     f"Upload at most {CSV_MAX_ROWS:,} rows"),
])
def test_bad_files_are_reported_as_a_whole(data, message):
    rows, problems = parse_vacancy_csv(data)
    assert rows == [] and len(problems) == 1
    assert problems[0].row is None and message in problems[0].message


def test_missing_and_repeated_columns_are_named():
    rows, problems = parse("setting_name,places,places\nOak,1,2\n")
    assert rows == []
    assert {(p.row, p.column) for p in problems} == {
        (1, "available_from"), (1, "fee_gbp_week"), (1, "setting_id"), (1, "places")}
    assert any("no 'available_from' column" in p.message for p in problems)
    assert any("needs a 'setting_id' or an 'ofsted_urn' column" in p.message for p in problems)
    assert any("'places' column appears more than once" in p.message for p in problems)


def test_every_kind_of_bad_row_is_reported_by_row_and_column():
    lines = [
        f",{SETTING},,,2,{TOMORROW},,850,open",  # 2: good
        f",{SETTING},,,-1,{TOMORROW},,850,",  # 3: negative places
        f",{SETTING},,,two,{TOMORROW},,850,",  # 4: places not a number
        f",{SETTING},,,1,31/02/2030,,850,",  # 5: not a real date
        f",{SETTING},,,1,{TOMORROW},2000-01-01,850,",  # 6: ends before it starts
        f",{SETTING},,,1,{TOMORROW},,eight hundred,",  # 7: fee not a number
        f",{SETTING},,,1,{TOMORROW},,-20,",  # 8: negative fee
        f",{SETTING},,,1,{TOMORROW},,850.555,",  # 9: fractions of a penny
        f",{SETTING},,,2,{TOMORROW},,850,open",  # 10: repeats row 2
        f"{VACANCY},,,,1,{TOMORROW},,850,",  # 11: good change
        f"{VACANCY},,,,3,{TOMORROW},,850,",  # 12: same vacancy again
        f",not-an-id,,,1,{TOMORROW},,850,",  # 13: malformed setting id
        f",,URN!,,1,{TOMORROW},,850,",  # 14: malformed URN
        f",,,,1,{TOMORROW},,850,",  # 15: which setting?
        f",{SETTING},,,1,{TOMORROW},,850,closed",  # 16: unknown status
        f",{SETTING},,,1,{TOMORROW},,850,withdrawn",  # 17: withdrawing a vacancy that does not exist yet
        f",{SETTING},,,,,,,",  # 18: required values missing
        f",{SETTING},,,1,{TOMORROW},,850,open,surprise",  # 19: more values than columns
        f"zz{VACANCY[2:]},,,,1,{TOMORROW},,850,",  # 20: malformed vacancy id
        f",{SETTING},,,51,{TOMORROW},,850,",  # 21: too many places
    ]
    rows, problems = parse(HEADER + "\n".join(lines) + "\n")
    assert [r.row for r in rows] == [2, 11]
    found = {(p.row, p.column) for p in problems}
    expected = {
        (3, "places"), (4, "places"), (5, "available_from"), (6, "available_to"), (7, "fee_gbp_week"),
        (8, "fee_gbp_week"), (9, "fee_gbp_week"), (10, None), (12, "vacancy_id"), (13, "setting_id"),
        (14, "ofsted_urn"), (15, "setting_id"), (16, "status"), (17, "status"), (18, "places"),
        (18, "available_from"), (18, "fee_gbp_week"), (19, None), (20, "vacancy_id"), (21, "places"),
    }
    assert expected <= found, expected - found
    messages = {(p.row, p.column): p.message for p in problems}
    assert "to close a vacancy, set its status to withdrawn" in messages[(3, "places")]
    assert "'31/02/2030' is not a real date" in messages[(5, "available_from")]
    assert "repeats row 2" in messages[(10, None)]
    assert "already on row 11" in messages[(12, "vacancy_id")]
    assert "'eight hundred' is not a number of pounds" in messages[(7, "fee_gbp_week")]


def test_a_cell_with_control_characters_is_a_problem_of_its_row_and_column():
    """The same rule as the forms (issue 15 §7); the other rows are still read, and the refused value is not
    echoed back in the message."""
    text = (HEADER + f",{SETTING},,Oak\x1b House,1,{TOMORROW},,800,\n"
            + f",{SETTING},,Elm House,2\x07,{TOMORROW},,800,open\x85\n"
            + f",{SETTING},,Ash House,1,{TOMORROW},,900,\n"
            + f",{SETTING},,Yew House,1,{TOMORROW},,900,,extra\x0c\n")
    rows, problems = parse(text)
    assert [r.row for r in rows] == [4]
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "setting_name", "Remove the control characters from the setting_name column"),
        (3, "places", "Remove the control characters from the places column"),
        (3, "status", "Remove the control characters from the status column"),
        (5, None, "Remove the control characters from the row"),
    ]
    assert not any(ch in p.message for p in problems for ch in "\x1b\x07\x85\x0c")
