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
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace {

struct sample {
  double ns_per_op = 0;
  double enters_per_op = 0;
};

// What one repetition measured: elapsed time and enters over `ops` operations.
struct measured {
  std::chrono::nanoseconds elapsed{};
  std::uint64_t enters = 0;
  std::uint64_t ops = 0;
};

class stopwatch {
 public:
  stopwatch() : enters_(coring::stats().enters), start_(bench_clock::now()) {}
  measured stop(std::uint64_t ops) const {
    const auto end = bench_clock::now();
    return {end - start_, coring::stats().enters - enters_, ops};
  }

 private:
  std::uint64_t enters_;
  bench_clock::time_point start_;
};

// Runs `make_rep()` (a task<measured>) `reps` times, each on a fresh runtime, and keeps the
// fastest repetition.
template <class MakeRep>
sample best_of(int reps, MakeRep make_rep) {
  sample best{std::numeric_limits<double>::max(), 0};
  for (int r = 0; r < reps; ++r) {
    const measured m = coring::run(make_rep());
    const double ns = static_cast<double>(m.elapsed.count()) / static_cast<double>(m.ops);
    if (ns < best.ns_per_op) {
      best.ns_per_op = ns;
      best.enters_per_op = static_cast<double>(m.enters) / static_cast<double>(m.ops);
    }
  }
  return best;
}

void report(const char* name, const sample& s, bool with_enters = true) {
  fmt::print("{} {:.2f} ns\n", name, s.ns_per_op);
  if (with_enters) {
    std::string base(name);
    if (base.size() > 3 && base.ends_with("_ns")) base.resize(base.size() - 3);
    fmt::print("{}_enters {:.4f} enters/op\n", base, s.enters_per_op);
  }
  std::fflush(stdout);
}

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

coring::task<> sleeper() { co_await coring::sleep(1ms); }

coring::task<measured> timer_rep(std::uint64_t n) {
  stopwatch w;
  co_await coring::with_task_group([n](coring::task_group& tg) -> coring::task<> {
    for (std::uint64_t i = 0; i < n; ++i) tg.spawn(sleeper());
    co_return;
  });
  co_return w.stop(n);
}

coring::task<> trivial() { co_return; }

coring::task<measured> spawn_join_rep(std::uint64_t n) {
  stopwatch w;
  co_await coring::with_task_group([n](coring::task_group& tg) -> coring::task<> {
    for (std::uint64_t i = 0; i < n; ++i) tg.spawn(trivial());
    co_return;
  });
  co_return w.stop(n);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string_view> only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else
      only.emplace_back(argv[i]);
  }
  const auto wanted = [&](std::string_view name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  const std::uint64_t scale = quick ? 20 : 1;
  const int reps = quick ? 2 : 5;

  if (wanted("await_child_ns"))
    report("await_child_ns", best_of(reps, [&] { return await_child_rep(5'000'000 / scale); }), false);
  if (wanted("checkpoint_ns"))
    report("checkpoint_ns", best_of(reps, [&] { return checkpoint_rep(5'000'000 / scale); }));
  if (wanted("with_timeout_ns"))
    report("with_timeout_ns", best_of(reps, [&] { return with_timeout_rep(1'000'000 / scale); }));
  // The task counts are part of the figure's definition, so --quick keeps them.
  if (wanted("timer_ns")) report("timer_ns", best_of(reps, [] { return timer_rep(10'000); }));
  if (wanted("spawn_join_ns"))
    report("spawn_join_ns", best_of(reps, [] { return spawn_join_rep(100'000); }));
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
