// Core benchmarks: the cost of coring's basic moves, measured beside bench/py/bench_core.py,
// which does the same work with Python's asyncio. Run both with `./run bench`.
//
// Output: one line per figure, `name value unit`, with the same names as the Python
// script so bench/run_all can pair them. Each figure is the best of several repetitions
// (the least disturbed by other processes); both programs use the same rule.
//   await_child_ns     co_await of a trivial child task            (await child())
//   checkpoint_ns      co_await coring::checkpoint() in a loop      (await asyncio.sleep(0))
//   with_timeout_ns    with_timeout(1s, task doing one checkpoint)  (async with asyncio.timeout(1))
//   timer_ns           10,000 tasks sleeping the same 1 ms, total / 10,000
//   spawn_join_ns      spawn + join of 100,000 trivial children in one task group, per child
// Lines ending in `enters/op` are coring's own io_uring_enter count per operation.
//
// Usage: bench_core [--quick] [NAME...]
//   --quick: fewer iterations, for a smoke run; NAME...: run only these figures (for perf).
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include "bench_util.hpp"

using namespace std::chrono_literals;
using bench::best_of;
using bench::measured;
using bench::report;
using bench::stopwatch;

namespace {

// ---- the work ----

coring::task<std::uint64_t> child(std::uint64_t i) { co_return i; }

coring::task<measured> await_child_rep(std::uint64_t n) {
  std::uint64_t sum = 0;
  stopwatch w;
  for (std::uint64_t i = 0; i < n; ++i) sum += co_await child(i);
  auto m = w.stop(n);
  if (sum != n * (n - 1) / 2) throw std::runtime_error("await_child: wrong sum");
  co_return m;
}

coring::task<measured> checkpoint_rep(std::uint64_t n) {
  stopwatch w;
  for (std::uint64_t i = 0; i < n; ++i) co_await coring::checkpoint();
  co_return w.stop(n);
}

coring::task<> one_checkpoint() { co_await coring::checkpoint(); }

coring::task<measured> with_timeout_rep(std::uint64_t n) {
  stopwatch w;
  for (std::uint64_t i = 0; i < n; ++i) co_await coring::with_timeout(1s, one_checkpoint());
  co_return w.stop(n);
}

// Spawns `n` children made by `make_child()` in one task group and waits for them all.
coring::task<measured> spawn_join_rep(std::uint64_t n, coring::task<> (*make_child)()) {
  stopwatch w;
  co_await coring::with_task_group([n, make_child](coring::task_group& tg) -> coring::task<> {
    for (std::uint64_t i = 0; i < n; ++i) tg.spawn(make_child());
    co_return;
  });
  co_return w.stop(n);
}

coring::task<> sleeper() { co_await coring::sleep(1ms); }

coring::task<> trivial() { co_return; }

}  // namespace

int main(int argc, char** argv) {
  const bench::options opt(argc, argv);

  if (opt.wanted("await_child_ns"))
    report("await_child_ns", best_of(opt.reps, [&] { return await_child_rep(5'000'000 / opt.scale); }), false);
  if (opt.wanted("checkpoint_ns"))
    report("checkpoint_ns", best_of(opt.reps, [&] { return checkpoint_rep(5'000'000 / opt.scale); }));
  if (opt.wanted("with_timeout_ns"))
    report("with_timeout_ns", best_of(opt.reps, [&] { return with_timeout_rep(1'000'000 / opt.scale); }));
  // The task counts are part of the figure's definition, so --quick keeps them.
  if (opt.wanted("timer_ns"))
    report("timer_ns", best_of(opt.reps, [] { return spawn_join_rep(10'000, sleeper); }));
  if (opt.wanted("spawn_join_ns"))
    report("spawn_join_ns", best_of(opt.reps, [] { return spawn_join_rep(100'000, trivial); }));
  fmt::print("ring_flags {} -\n", [] {
    std::string f;
    coring::run([](std::string& out) -> coring::task<> {
      out = coring::stats().ring_flags;
      for (auto& c : out)
        if (c == ' ') c = ',';
      co_return;
    }(f));
    return f;
  }());
  return 0;
}
