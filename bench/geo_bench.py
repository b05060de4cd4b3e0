"""Benchmark portal.geo: cold and warm postcode lookups, loading time and memory.

    python -m bench.geo_bench [--runs N] [--no-write]

Cold numbers come from fresh Python processes (one per run), so they include reading and
decompressing the letter file; warm numbers from a loop in this process after preloading. Prints the
results and replaces the "## Geography" section of docs/performance.md (creating the file if need be).
Only measured numbers are written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import cpu_model, write_section

ROOT = Path(__file__).resolve().parent.parent
GEO_PATH = ROOT / "portal" / "geo.py"
DOC_PATH = ROOT / "docs" / "performance.md"
SECTION = "## Geography"

# Run in a child process: load portal/geo.py by path (so the figures are geo's own, not Flask's,
# which `import portal` would also pull in), then time one step and report memory from /proc.
_CHILD = r"""
import ctypes, importlib.util, json, sys, time
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("geo", sys.argv[1])
geo = importlib.util.module_from_spec(spec); sys.modules["geo"] = geo; spec.loader.exec_module(geo)
t1 = time.perf_counter()

def rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None

rss_before = rss_kib("VmRSS")
step, arg = sys.argv[2], sys.argv[3]
t2 = time.perf_counter()
if step == "lookup":
    geo.lookup(arg)
elif step == "preload":
    geo.preload(tuple(arg))
elif step == "brotli":  # the floor: decompressing the file, nothing else
    geo.brotli.decompress((geo._data_dir() / f"postcodes_{arg}.msgpack.br").read_bytes())
elif step == "generic":  # the fallback reader: msgpack.unpackb, one Python object per value
    buffer = geo.brotli.decompress((geo._data_dir() / f"postcodes_{arg}.msgpack.br").read_bytes())
    geo._tables[arg] = geo._build_table(*geo._columns_generic(buffer))
t3 = time.perf_counter()
rss_after = rss_kib("VmRSS")
try:  # hand freed heap back to the OS, to tell loader working memory from what geo keeps
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    rss_trimmed = rss_kib("VmRSS")
except OSError:
    rss_trimmed = None
print(json.dumps({
    "import_s": t1 - t0, "step_s": t3 - t2, "rss_before_kib": rss_before,
    "rss_after_kib": rss_after, "rss_trimmed_kib": rss_trimmed, "rss_peak_kib": rss_kib("VmHWM"),
    "postcodes": sum(len(t) for t in geo._tables.values()),
    "array_bytes": sum(t.nbytes() for t in geo._tables.values()),
}))
"""


def child(step: str, arg: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(GEO_PATH), step, arg], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def cold(step: str, arg: str, runs: int) -> dict:
    results = [child(step, arg) for _ in range(runs)]
    steps = [r["step_s"] for r in results]
    return {
        "median_ms": statistics.median(steps) * 1e3,
        "min_ms": min(steps) * 1e3,
        "max_ms": max(steps) * 1e3,
        "import_ms": statistics.median(r["import_s"] for r in results) * 1e3,
        "rss_before_mib": results[0]["rss_before_kib"] / 1024,
        "rss_after_mib": results[0]["rss_after_kib"] / 1024,
        "rss_peak_mib": results[0]["rss_peak_kib"] / 1024,
        "rss_trimmed_mib": (results[0]["rss_trimmed_kib"] or 0) / 1024,
        "postcodes": results[0]["postcodes"],
        "array_mib": results[0]["array_bytes"] / 2**20,
    }


def per_call_us(fn, args: list, repeat: int = 5) -> float:
    """Best of `repeat` passes over args, in microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for a in args:
            fn(a)
        best = min(best, (time.perf_counter() - t) / len(args))
    return best * 1e6


def machine() -> str:
    cpu = cpu_model()
    import numpy

    from portal import geo

    return (
        f"{cpu}, {os.cpu_count()} CPUs visible; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"{geo.DATA_PACKAGE} {geo.data_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per cold measurement")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    options = parser.parse_args()

    from portal import geo

    wm_letters = "".join(geo.WM_POSTCODE_LETTERS)
    all_letters = "ABCDEFGHIJKLMNOPRSTUWYZ"
    print(f"machine: {machine()}")

    cold_rows = []
    for label, step, arg in [
        ("first lookup of a B postcode (largest file, B15 2TT)", "lookup", "B15 2TT"),
        ("first lookup of a C postcode (CV1 2AB)", "lookup", "CV1 2AB"),
        ("first lookup of an H postcode (HR1 2PJ)", "lookup", "HR1 2PJ"),
        ("B file: brotli decompression only (the floor)", "brotli", "B"),
        ("B file through msgpack.unpackb (the fallback reader)", "generic", "B"),
        (f"preload() the West Midlands letters ({wm_letters})", "preload", wm_letters),
        ("preload every letter (all UK)", "preload", all_letters),
    ]:
        result = cold(step, arg, options.runs)
        cold_rows.append((label, result))
        print(
            f"cold  {label}: median {result['median_ms']:.0f} ms (min {result['min_ms']:.0f}, max {result['max_ms']:.0f});"
            f" {result['postcodes']:,} postcodes held in {result['array_mib']:.1f} MiB of arrays;"
            f" RSS {result['rss_before_mib']:.0f} → {result['rss_after_mib']:.0f} MiB"
            f" ({result['rss_trimmed_mib']:.0f} after malloc_trim), peak {result['rss_peak_mib']:.0f} MiB"
        )
    import_ms = statistics.median(r["import_ms"] for _, r in cold_rows)
    print(f"import geo (numpy, brotli, msgpack included): median {import_ms:.0f} ms")

    # Warm: a spread of real West Midlands postcodes, typed the way users type them.
    geo.preload()
    sample = [info for la in geo.WM_LOCAL_AUTHORITIES for info in geo.postcodes_in_la(la.code, limit=1_000)]
    typed = [info.postcode.lower().replace(" ", "") for info in sample]
    canonical = [info.postcode for info in sample]
    pairs = list(zip(sample, reversed(sample)))
    warm = {
        "lookup(), lower case without space": per_call_us(geo.lookup, typed),
        "lookup(), canonical": per_call_us(geo.lookup, canonical),
        "normalise_postcode()": per_call_us(geo.normalise_postcode, typed),
        "distance_miles_between()": per_call_us(lambda p: geo.distance_miles_between(*p), pairs),
    }

    def unknown(text: str) -> None:
        try:
            geo.lookup(text)
        except geo.UnknownPostcode:
            pass

    warm["lookup() of an unknown postcode (raises)"] = per_call_us(unknown, ["B1 1ZZ"] * 2_000)
    for label, us in warm.items():
        print(f"warm  {label}: {us:.2f} µs per call ({len(sample):,} postcodes, best of 5)")

    listing = {}
    for label, fn in [
        ("postcodes_in_la(Birmingham), all", lambda: geo.postcodes_in_la("E08000025")),
        ("postcodes_in_la(Staffordshire, limit=200)", lambda: geo.postcodes_in_la("E10000028", limit=200)),
        ("postcodes_in_areas(GL, OX, NN, LE, DE, SK, CW, LD, limit=500)",
         lambda: geo.postcodes_in_areas(["GL", "OX", "NN", "LE", "DE", "SK", "CW", "LD"], limit=500)),
    ]:
        t = time.perf_counter()
        n = len(fn())
        listing[label] = ((time.perf_counter() - t) * 1e3, n)
        print(f"warm  {label}: {listing[label][0]:.0f} ms, {n:,} postcodes")

    section = render(machine(), options.runs, cold_rows, import_ms, warm, len(sample), listing)
    if not options.no_write:
        write_section(section)
        print(f"wrote {SECTION!r} in {DOC_PATH.relative_to(ROOT)}")


def render(machine_info: str, runs: int, cold_rows, import_ms: float, warm: dict, n_warm: int, listing: dict) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m bench.geo_bench` on: {machine_info}.",
        "",
        "`portal/geo.py` reads the package's `postcodes_<LETTER>.msgpack.br` files itself (no pandas) the first",
        "time a postcode of that letter is needed: brotli, then numpy reads the columns straight out of the",
        "msgpack bytes (`msgpack.unpackb` is the fallback for a file laid out differently). It keeps only",
        "postcodes with a grid reference, as four sorted numpy arrays (7-byte key, int32 easting and northing,",
        "uint16 district index: about 17 bytes a postcode, no Python object per postcode, so forked workers",
        "share the pages). A warm lookup is a regex and one binary search. A letter is loaded once, under its",
        "own lock.",
        "",
        f"Cold: each a fresh process, median of {runs} (min–max). RSS is the whole process (Python, numpy",
        "and the data); \"arrays\" is what geo keeps; \"trimmed\" is RSS after `malloc_trim(0)`, i.e. without",
        "the loader's freed working memory that the allocator had not yet handed back to the OS.",
        "",
        "| step | median | min–max | postcodes held | arrays | RSS before → after (trimmed) | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in cold_rows:
        lines.append(
            f"| {label} | {r['median_ms']:.0f} ms | {r['min_ms']:.0f}–{r['max_ms']:.0f} ms | {r['postcodes']:,} |"
            f" {r['array_mib']:.1f} MiB | {r['rss_before_mib']:.0f} → {r['rss_after_mib']:.0f}"
            f" ({r['rss_trimmed_mib']:.0f}) MiB |"
            f" {r['rss_peak_mib']:.0f} MiB |"
        )
    lines += [
        "",
        f"Importing `portal/geo.py` on its own (numpy, brotli and msgpack included): median {import_ms:.0f} ms.",
        "",
        f"Warm (after `preload()`), {n_warm:,} real West Midlands postcodes, best of 5 passes:",
        "",
        "| call | per call |",
        "|---|---:|",
    ]
    lines += [f"| {label} | {us:.2f} µs |" for label, us in warm.items()]
    lines += ["", "Listing postcodes (warm; for the demo data generator):", "", "| call | time | postcodes |", "|---|---:|---:|"]
    lines += [f"| {label} | {ms:.0f} ms | {n:,} |" for label, (ms, n) in listing.items()]
    lines += [
        "",
        "So: a web process should call `geo.preload()` at start (the cost above, once per process; with",
        "`gunicorn --preload` once per master); without it, the first request to need a letter pays that",
        "letter's cold time once. Warm lookups cost microseconds, far below a web request's budget.",
        "",
    ]
    return "\n".join(lines)



if __name__ == "__main__":
    main()
