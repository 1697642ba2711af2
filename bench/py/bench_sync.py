#!/usr/bin/env python3
"""The asyncio peer of bench/bench_sync.cpp: the same work, the same output format.

Each line is `name value unit` with the names bench_sync prints, so bench/run_all can
pair them. Each figure is the best of several repetitions, each on a fresh event loop
(asyncio.run), exactly like the C++ side.
  queue_item_ns         one item through asyncio.Queue(maxsize=100): 1 producer,
                        5 consumers, 1,000,000 items; total time / items
  semaphore_spawn_ns    100,000 tasks in a TaskGroup limited by asyncio.Semaphore(10),
                        each holding it across one asyncio.sleep(0); total time / tasks
  semaphore_acquire_ns  uncontended `async with sem:` in one task

Usage: bench_sync.py [--quick] [NAME...]
"""
import asyncio
import sys
import time

from benchutil import Options, best_of, report


async def queue_rep(n, consumers, maxsize):
    q = asyncio.Queue(maxsize)
    total = [0, 0]  # sum, count
    has_shutdown = hasattr(q, "shutdown")  # Python 3.13+

    async def consumer():
        if has_shutdown:
            try:
                while True:
                    total[0] += await q.get()
                    total[1] += 1
            except asyncio.QueueShutDown:
                pass
        else:
            while True:
                v = await q.get()
                if v is None:
                    return
                total[0] += v
                total[1] += 1

    async def producer():
        for i in range(n):
            await q.put(i)
        if has_shutdown:
            q.shutdown()
        else:
            for _ in range(consumers):
                await q.put(None)

    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for _ in range(consumers):
            tg.create_task(consumer())
        tg.create_task(producer())
    elapsed = time.perf_counter_ns() - t0
    assert total == [n * (n - 1) // 2, n], "queue: items lost"
    return elapsed, n


async def limited_worker(sem, done):
    async with sem:
        await asyncio.sleep(0)
        done[0] += 1


async def semaphore_spawn_rep(n, limit):
    sem = asyncio.Semaphore(limit)
    done = [0]
    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(limited_worker(sem, done))
    elapsed = time.perf_counter_ns() - t0
    assert done[0] == n, "semaphore: tasks lost"
    return elapsed, n


async def semaphore_acquire_rep(n):
    sem = asyncio.Semaphore(1)
    t0 = time.perf_counter_ns()
    for _ in range(n):
        async with sem:
            pass
    return time.perf_counter_ns() - t0, n


def main():
    opt = Options()
    # Python is ~100x slower per item, so it does fewer items; per-item cost is what is
    # compared, and the queue's steady state is reached within a few thousand items.
    scale = opt.scale
    reps = 2 if opt.quick else 3
    if opt.wanted("queue_item_ns"):
        ns = best_of(reps, lambda: queue_rep(200_000 // scale, 5, 100))
        report("queue_item_ns", ns)
        print(f"queue_items_per_s {1e9 / ns:.3g} items/s", flush=True)
    if opt.wanted("semaphore_spawn_ns"):
        report("semaphore_spawn_ns", best_of(reps, lambda: semaphore_spawn_rep(100_000 // scale, 10)))
    if opt.wanted("semaphore_acquire_ns"):
        report("semaphore_acquire_ns", best_of(reps, lambda: semaphore_acquire_rep(1_000_000 // scale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
