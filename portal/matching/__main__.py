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
import os
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


# Requests per block when ranking in several processes: big enough that passing a block back costs little next to
# making it, small enough that the processes finish together.
RANK_BLOCK = 16


def _write_rank(data: Any, out, exclusions: str = "counts", limit: int | None = None,
                workers: int | None = None) -> None:
    """The rank output streamed block by block, in order (the whole problem is checked before anything is
    written). With more than one worker, forked processes make the blocks (each the same bytes one process
    makes, `rank_json_block`) and this one writes them in order, so the output does not depend on the count."""
    from .rank import OptionIndex, rank_json_block, sibling_lists

    problem = parse_problem(data)
    index = OptionIndex.build(problem.options, problem.policy)
    requests = problem.requests
    groups = sibling_lists(requests)
    # A batch process: everything built so far lives to the end, and each request's output is garbage as soon
    # as it is written, so the cyclic collector only costs time (half of it on 1,000 x 10,000).
    gc.freeze()
    gc.disable()
    workers = _workers() if workers is None else workers
    bounds = [(i, min(i + RANK_BLOCK, len(requests))) for i in range(0, len(requests), RANK_BLOCK)]
    out.write(b'{"results": [')
    if workers > 1 and len(bounds) > 1 and hasattr(os, "fork"):
        out.flush()
        _write_forked(out.fileno(), bounds, min(workers, len(bounds)),
                      lambda start, stop, done: rank_json_block(requests, index, groups, start, stop,
                                                                exclusions=exclusions, limit=limit, done=done))
    else:
        done: dict[str, bytes] = {}
        for start, stop in bounds:
            out.write(rank_json_block(requests, index, groups, start, stop, exclusions=exclusions, limit=limit,
                                      done=done))
    out.write(b"]}\n")


def _write_forked(fd: int, bounds: list[tuple[int, int]], workers: int, make) -> None:
    """Blocks made by `workers` forked processes, block j by process j % workers, each written straight to `fd`
    in turn: a process writes block j when the one before hands it the turn (a byte on a pipe), then hands it on,
    so the output is the blocks in order and no byte of it passes through another process."""
    turns = [os.pipe() for _ in range(workers)]
    children = []
    for k in range(workers):
        pid = os.fork()
        if pid == 0:  # the child: make its blocks, write each in turn, and leave without cleaning up the parent's
            status = 1
            try:
                done: dict[str, bytes] = {}
                wait_on, hand_to = turns[k][0], turns[(k + 1) % workers][1]
                for j in range(k, len(bounds), workers):
                    block = make(*bounds[j], done)
                    if j and os.read(wait_on, 1) != b"t":
                        break  # the process before stopped: say so by exiting unsuccessfully
                    view = memoryview(block)
                    while view:
                        view = view[os.write(fd, view):]
                    os.write(hand_to, b"t")
                else:
                    status = 0
            finally:
                os._exit(status)
        children.append(pid)
    for read_end, write_end in turns:
        os.close(read_end)
        os.close(write_end)
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} of {workers} ranking processes failed")


def _workers() -> int:
    """The CPUs this process may use (PORTAL_RANK_WORKERS overrides; 1 ranks in this process alone)."""
    configured = os.environ.get("PORTAL_RANK_WORKERS", "").strip()
    if configured.isdigit() and int(configured) >= 1:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
