"""What the asyncio benchmark peers share: the best-of-N rule, the output lines and the
command line, kept the same as bench/bench_util.hpp on the C++ side."""
import asyncio
import sys
import time


def best_of(reps, make_rep):
    """Runs make_rep() (a coroutine returning (elapsed_ns, ops)) reps times, each on a
    fresh event loop, and returns the fastest repetition's ns per operation."""
    best = None
    for _ in range(reps):
        elapsed, ops = asyncio.run(make_rep())
        ns = elapsed / ops
        if best is None or ns < best:
            best = ns
    return best


async def spawn_join_rep(n, make_child):
    """Creates n tasks from make_child() in one TaskGroup and waits for them all."""
    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(make_child())
    return time.perf_counter_ns() - t0, n


def report(name, ns):
    print(f"{name} {ns:.2f} ns", flush=True)


class Options:
    """The command line every peer takes: [--quick] [NAME...]."""

    def __init__(self, argv=None):
        args = sys.argv[1:] if argv is None else argv
        self.quick = "--quick" in args
        self.only = [a for a in args if not a.startswith("--")]
        self.scale = 20 if self.quick else 1

    def wanted(self, name):
        return not self.only or name in self.only
