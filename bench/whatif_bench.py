"""What-if sufficiency at the `large` demo scale (issue 13 §1): one what-if on today's open requests (target <= 5 s)
and on a replay of the last 12 months' requests (target <= 30 s).

    python -m bench.whatif_bench [--no-write]

Loads the large demo region into SQLite once (the market bench's database, reused), then in one process times the
portal's own calls: `portal.market.whatif.whatif_open` and `whatif_replay`, each with one scenario (four places in
a children's home in Wolverhampton for 12 to 15-year-olds who go missing, at £4,800 a week). Each is the baseline
allocation and the scenario's, validated, as the commissioner's page runs them. The allocation is deterministic,
so the figures below the times are the same on any machine; only the times vary with the host.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import cpu_model, load_average, write_section
from bench.market_bench import DEFAULT_DB, ensure_database

SECTION = "## What-if sufficiency"


def scenario():
    from portal import matching
    from portal.market.whatif import ProvisionItem

    return [("four places in Wolverhampton", [ProvisionItem(
        places=4, kind="residential", la="E08000031", location=matching.GridPoint(391_500, 298_500), age_min=12,
        age_max=15, risks_managed=frozenset({"going_missing"}), fee_gbp_week=4800.0)])]


def measure(url: str) -> dict:
    os.environ.setdefault("PORTAL_ENV", "development")
    from portal import create_app
    from portal.market.whatif import replay_months, whatif_open, whatif_replay
    from portal.options import current_options, open_problem

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        current_options()  # the page runs in a worker whose index is warm
        specs, options = open_problem()
        months = replay_months()
        t0 = time.perf_counter()
        today = whatif_open(scenario())
        t1 = time.perf_counter()
        replay = whatif_replay(scenario())
        t2 = time.perf_counter()
    return {"open_seconds": t1 - t0, "replay_seconds": t2 - t1, "open": today, "replay": replay,
            "requests": len(specs), "options": len(options), "replayed": sum(len(s) for _, s in months)}


def render(r: dict, note: str, load_start, load_end) -> str:
    def verdict(seconds, target):
        return "met" if seconds <= target else "missed"

    def figures(result):
        b, s = result.baseline, result.scenarios[0]
        return (f"placed {b['children_placed']:,} → {s['children_placed']:,} "
                f"({s['delta']['children_placed']:+d}), own LA {s['delta']['placed_own_la']:+d}, within 20 miles "
                f"{s['delta']['placed_within_20_miles']:+d}, fees £{s['delta']['fee_gbp_week']:+,.0f} a week")

    lines = [SECTION, "",
             f"Measured {time.strftime('%Y-%m-%d')} with `python -m bench.whatif_bench` on: {cpu_model()}, "
             f"{os.cpu_count()} CPUs visible; load average {load_start:.2f} at the start and {load_end:.2f} at the end "
             "(a shared host: other work ran beside it). The `large` demo region in SQLite "
             f"({note}): {r['requests']:,} open requests, {r['options']:,} open options; {r['replayed']:,} requests "
             "submitted in the last 12 months. One scenario: four places in a children's home in Wolverhampton "
             "for 12 to 15-year-olds who go missing. Each figure is the baseline allocation plus the scenario's, both "
             "validated, through the portal's own functions (`portal.market.whatif`).", "",
             "| what | target | time | target met | what it found |", "|---|---:|---:|---|---|",
             f"| one what-if, today's open requests | ≤ 5 s | {r['open_seconds']:.1f} s | "
             f"{verdict(r['open_seconds'], 5)} | {figures(r['open'])} |",
             f"| one what-if, a replay of 12 months (month by month) | ≤ 30 s | {r['replay_seconds']:.1f} s | "
             f"{verdict(r['replay_seconds'], 30)} | {figures(r['replay'])} |", ""]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args(argv)
    load_start = load_average() or 0.0
    url, note = ensure_database(DEFAULT_DB)
    result = measure(url)
    text = render(result, "built for this run" if note == "built" else "reused from an earlier run",
                  load_start, load_average() or 0.0)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
