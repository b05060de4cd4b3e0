"""Command line: `python -m portal.matching rank FILE` / `allocate FILE` / `whatif FILE`.

FILE is a problem file (docs/matching.md); `-` reads standard input. Prints JSON (UTF-8) on standard output,
identical to `json.dumps(rank_problem(problem, exclusions=..., limit=...), ensure_ascii=False)` (or
`allocate_problem`, `whatif.whatif_problem`); `rank` streams it request by request. On bad input it
prints one message naming the record and the field on standard error, nothing on standard output, and exits 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from typing import Any

from .problem import ProblemError, allocate_problem, parse_problem, rank_problem
from .solver import SAFETY_TIME_LIMIT_S
from .types import EXCLUSION_MODES

EXIT_BAD_INPUT = 2


def _read(path: str) -> Any:
    try:
        if path == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as err:
        raise ProblemError(path, None, f"cannot read the file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise ProblemError(path, None, "is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ProblemError(path, None, f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") \
            from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.matching", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rank_cmd = commands.add_parser("rank", help="rank every option for every request")
    allocate_cmd = commands.add_parser("allocate", help="allocate options to requests region-wide")
    whatif_cmd = commands.add_parser("whatif", help="the allocation with and without hypothetical provision "
                                                    "(the problem's \"scenarios\")")
    for cmd in (rank_cmd, allocate_cmd, whatif_cmd):
        cmd.add_argument("file", metavar="FILE", help="problem file (JSON), or - for standard input")
        cmd.add_argument("--pretty", action="store_true", help="indent the JSON output")
    rank_cmd.add_argument("--exclusions", choices=EXCLUSION_MODES, default="counts",
                          help="what to say of the excluded options: none, counts (per rule, how many options fail "
                               "it; the default) or all (every one with its reasons)")
    rank_cmd.add_argument("--limit", type=_positive, default=None, metavar="N",
                          help="keep only the best N matches of each request (default: every eligible option)")
    for cmd in (allocate_cmd, whatif_cmd):
        cmd.add_argument("--time-limit", type=float, default=SAFETY_TIME_LIMIT_S, metavar="SECONDS",
                         help="wall-clock safety net only, per allocation (default %(default)g): work limits decide "
                              "the answer; if this fires the allocate output says stopped_by: safety_time_limit")
    args = parser.parse_args(argv)
    out = sys.stdout.buffer
    try:
        data = _read(args.file)
        if args.command == "allocate":
            result = allocate_problem(data, time_limit_s=args.time_limit)
            out.write(_dump(result, args.pretty))
        elif args.command == "whatif":
            from .whatif import whatif_problem

            out.write(_dump(whatif_problem(data, time_limit_s=args.time_limit), args.pretty))
        elif args.pretty:
            out.write(_dump(rank_problem(data, exclusions=args.exclusions, limit=args.limit), True))
        else:
            _write_rank(data, out, args.exclusions, args.limit)
    except ProblemError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out.flush()
    return 0


def _dump(result: Any, pretty: bool) -> bytes:
    return (json.dumps(result, ensure_ascii=False, indent=2 if pretty else None) + "\n").encode("utf-8")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _write_rank(data: Any, out, exclusions: str = "counts", limit: int | None = None) -> None:
    """The rank output streamed request by request (the whole problem is checked before anything is written)."""
    from .rank import OptionIndex, iter_rank_json

    problem = parse_problem(data)
    index = OptionIndex.build(problem.options, problem.policy)
    # A batch process: everything built so far lives to the end, and each request's output is garbage as soon
    # as it is written, so the cyclic collector only costs time (half of it on 1,000 x 10,000).
    gc.freeze()
    gc.disable()
    for chunk in iter_rank_json(problem.requests, index, exclusions=exclusions, limit=limit):
        out.write(chunk)
    out.write(b"\n")


if __name__ == "__main__":
    sys.exit(main())
