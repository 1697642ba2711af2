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


def best_of(reps, make_rep):
    best = None
    for _ in range(reps):
        elapsed, ops = asyncio.run(make_rep())
        ns = elapsed / ops
        if best is None or ns < best:
            best = ns
    return best


def main():
    quick = "--quick" in sys.argv[1:]
    only = [a for a in sys.argv[1:] if not a.startswith("--")]

    def wanted(name):
        return not only or name in only

    # Python is ~100x slower per item, so it does fewer items; per-item cost is what is
    # compared, and the queue's steady state is reached within a few thousand items.
    scale = 20 if quick else 1
    reps = 2 if quick else 3
    if wanted("queue_item_ns"):
        ns = best_of(reps, lambda: queue_rep(200_000 // scale, 5, 100))
        print(f"queue_item_ns {ns:.2f} ns")
        print(f"queue_items_per_s {1e9 / ns:.3g} items/s")
    if wanted("semaphore_spawn_ns"):
        ns = best_of(reps, lambda: semaphore_spawn_rep(100_000 // scale, 10))
        print(f"semaphore_spawn_ns {ns:.2f} ns")
    if wanted("semaphore_acquire_ns"):
        ns = best_of(reps, lambda: semaphore_acquire_rep(1_000_000 // scale))
        print(f"semaphore_acquire_ns {ns:.2f} ns")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
