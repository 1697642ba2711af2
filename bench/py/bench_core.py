#!/usr/bin/env python3
"""The asyncio peer of bench/bench_core.cpp: the same work, the same output format.

Each line is `name value unit` with the names bench_core prints, so bench/run_all can
pair them. Each figure is the best of several repetitions, each on a fresh event loop
(asyncio.run), exactly like the C++ side.

Usage: bench_core.py [--quick] [NAME...]
"""
import asyncio
import sys
import time

from benchutil import Options, best_of, report, spawn_join_rep


async def child(i):
    return i


async def await_child_rep(n):
    s = 0
    t0 = time.perf_counter_ns()
    for i in range(n):
        s += await child(i)
    t1 = time.perf_counter_ns()
    assert s == n * (n - 1) // 2
    return t1 - t0, n


async def checkpoint_rep(n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await asyncio.sleep(0)
    return time.perf_counter_ns() - t0, n


async def one_checkpoint():
    await asyncio.sleep(0)


async def with_timeout_rep(n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        async with asyncio.timeout(1):
            await one_checkpoint()
    return time.perf_counter_ns() - t0, n


async def sleeper():
    await asyncio.sleep(0.001)


async def trivial():
    return None


async def spawn_wave_rep(waves, per_wave):
    t0 = time.perf_counter_ns()
    for _ in range(waves):
        async with asyncio.TaskGroup() as tg:
            for _ in range(per_wave):
                tg.create_task(trivial())
    return time.perf_counter_ns() - t0, waves * per_wave


async def yielder(k):
    for _ in range(k):
        await asyncio.sleep(0)


async def yield_many_rep(tasks, k):
    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(yielder(k))
    return time.perf_counter_ns() - t0, tasks * k


def main():
    opt = Options()
    scale = opt.scale
    reps = 2 if opt.quick else 5
    figures = [
        ("await_child_ns", reps, lambda: await_child_rep(500_000 // scale)),
        ("checkpoint_ns", reps, lambda: checkpoint_rep(200_000 // scale)),
        ("with_timeout_ns", reps, lambda: with_timeout_rep(100_000 // scale)),
        ("timer_ns", reps, lambda: spawn_join_rep(10_000, sleeper)),
        ("spawn_join_ns", min(reps, 3), lambda: spawn_join_rep(100_000, trivial)),
        ("spawn_join_1m_ns", 1, lambda: spawn_join_rep(1_000_000, trivial)),
        ("spawn_wave_ns", min(reps, 3), lambda: spawn_wave_rep(12, 8192)),
        ("yield_8192_ns", min(reps, 3), lambda: yield_many_rep(8192, 20 // min(scale, 10))),
    ]
    for name, n, rep in figures:
        if opt.wanted(name):  # NAME... picks figures, as bench_core does
            report(name, best_of(n, rep))
    print(f"python_version {sys.version.split()[0]} -")


if __name__ == "__main__":
    main()
