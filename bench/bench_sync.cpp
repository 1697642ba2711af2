// Sync benchmarks: coring's queue and semaphore, measured beside bench/py/bench_sync.py,
// which does the same work with asyncio.Queue and asyncio.Semaphore. Run both with
// `./run bench` (bench/run_all pairs the lines by name).
//
// Output: one line per figure, `name value unit`, the same names as the Python script.
// Each figure is the best of several repetitions, each on a fresh runtime.
//   queue_item_ns          one item through a queue(maxsize 100): 1 producer, 5 consumers,
//                          1,000,000 items; total time / items
//   semaphore_spawn_ns     100,000 spawned tasks limited by semaphore(10), each holding its
//                          permit across one checkpoint; total time / tasks
//   semaphore_acquire_ns   uncontended acquire + release in one task
// Coring-only notes: `queue_items_per_s` (items/s) and `*_enters` (io_uring_enter calls
// per operation: zero is the point of a user-space hand-off).
//
// Usage: bench_sync [--quick] [NAME...]
//   --quick: fewer items and repetitions, for a smoke run; NAME...: run only these figures.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include <coring/queue.hpp>
#include <coring/runtime.hpp>
#include <coring/semaphore.hpp>
#include <coring/task.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include "bench_util.hpp"

using bench::best_of;
using bench::measured;
using bench::report;
using bench::stopwatch;

namespace {

// ---- the work ----

coring::task<measured> queue_rep(std::uint64_t n, int consumers, std::size_t maxsize) {
  coring::queue<std::uint64_t> q(maxsize);
  std::uint64_t sum = 0, count = 0;
  stopwatch w;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int c = 0; c < consumers; ++c)
      tg.spawn([&]() -> coring::task<> {
        try {
          for (;;) {
            sum += co_await q.get();
            ++count;
          }
        } catch (const coring::queue_shut_down&) {
        }
      });
    tg.spawn([&]() -> coring::task<> {
      for (std::uint64_t i = 0; i < n; ++i) co_await q.put(i);
      q.shutdown();
    });
    co_return;
  });
  auto m = w.stop(n);
  if (count != n || sum != n * (n - 1) / 2) throw std::runtime_error("queue: items lost");
  co_return m;
}

coring::task<> limited_worker(coring::semaphore& sem, std::uint64_t& done) {
  auto permit = co_await sem.acquire();
  co_await coring::checkpoint();
  ++done;
}

coring::task<measured> semaphore_spawn_rep(std::uint64_t n, std::ptrdiff_t limit) {
  coring::semaphore sem(limit);
  std::uint64_t done = 0;
  stopwatch w;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (std::uint64_t i = 0; i < n; ++i) tg.spawn(limited_worker(sem, done));
    co_return;
  });
  auto m = w.stop(n);
  if (done != n || sem.value() != limit) throw std::runtime_error("semaphore: tasks lost");
  co_return m;
}

coring::task<measured> semaphore_acquire_rep(std::uint64_t n) {
  coring::semaphore sem(1);
  stopwatch w;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto p = co_await sem.acquire();
  }
  co_return w.stop(n);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options opt(argc, argv);

  if (opt.wanted("queue_item_ns")) {
    const bench::sample s = best_of(opt.reps, [&] { return queue_rep(1'000'000 / opt.scale, 5, 100); });
    report("queue_item_ns", s);
    fmt::print("queue_items_per_s {:.3g} items/s\n", 1e9 / s.ns_per_op);
  }
  if (opt.wanted("semaphore_spawn_ns"))
    report("semaphore_spawn_ns", best_of(opt.reps, [&] { return semaphore_spawn_rep(100'000 / opt.scale, 10); }));
  if (opt.wanted("semaphore_acquire_ns"))
    report("semaphore_acquire_ns", best_of(opt.reps, [&] { return semaphore_acquire_rep(5'000'000 / opt.scale); }));
  return 0;
}
