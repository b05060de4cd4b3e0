"""`make bench`: every speed target, measured on this machine; each module writes its section of
docs/performance.md. Not a test: nothing here asserts a time."""

import importlib
import sys

MODULES = ["bench.geo_bench", "bench.demo_bench", "bench.matching_bench", "bench.policy_bench", "bench.whatif_bench",
           "bench.inbox_bench", "bench.portal_bench",
           "bench.requests_list_bench", "bench.market_bench", "bench.contention_bench", "bench.sign_in_bench",
           "bench.load_bench"]

if __name__ == "__main__":
    only = sys.argv[1:]
    for name in MODULES:
        if only and name.split(".")[-1] not in only:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            print(f"(skipping {name}: not present)")
            continue
        print(f"\n=== {name}\n", flush=True)
        sys.argv = [name]  # each bench reads its own options; run them with their defaults
        module.main()
