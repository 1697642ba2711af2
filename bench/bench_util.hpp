// What the benchmark programs share: timing one repetition, keeping the best of several,
// printing `name value unit` lines for bench/run_all, and the common command line.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <valgrind/callgrind.h>

#include <fmt/format.h>

#include <coring/runtime.hpp>

namespace bench {

using clock_type = std::chrono::steady_clock;

// What one repetition measured: elapsed time and enters over `ops` operations.
struct measured {
  std::chrono::nanoseconds elapsed{};
  std::uint64_t enters = 0;
  std::uint64_t ops = 0;
  double ns_per_op() const { return static_cast<double>(elapsed.count()) / static_cast<double>(ops); }
};

// The figure printed for one benchmark: the best repetition, per operation.
struct sample {
  double ns_per_op = std::numeric_limits<double>::max();
  double enters_per_op = 0;
  std::uint64_t ops_counted = 0;  // operations over every repetition (for callgrind's count)
  // Takes `m` as the figure when it is the fastest repetition so far.
  void keep_if_faster(const measured& m) {
    if (m.ns_per_op() < ns_per_op) {
      ns_per_op = m.ns_per_op();
      enters_per_op = static_cast<double>(m.enters) / static_cast<double>(m.ops);
    }
  }
};

// Started inside the repetition's task, so only the measured work is counted. Under
// callgrind (bench/count_instructions) it also switches instruction counting on and off, so
// the count covers exactly the measured windows (this machine's VM has no hardware
// counters for `perf stat -e instructions:u`); elsewhere the toggles cost a few
// instructions outside the window.
class stopwatch {
 public:
  stopwatch() : enters_(coring::stats().enters), start_(clock_type::now()) { CALLGRIND_TOGGLE_COLLECT; }
  measured stop(std::uint64_t ops) const {
    CALLGRIND_TOGGLE_COLLECT;
    const auto end = clock_type::now();
    return {end - start_, coring::stats().enters - enters_, ops};
  }

 private:
  std::uint64_t enters_;
  clock_type::time_point start_;
};

// Runs `make_rep()` (a task<measured>) `reps` times, each on a fresh runtime, and keeps the
// fastest repetition: the one least disturbed by other processes.
template <class MakeRep>
sample best_of(int reps, MakeRep make_rep) {
  sample best;
  for (int r = 0; r < reps; ++r) {
    const measured m = coring::run(make_rep());
    best.ops_counted += m.ops;
    best.keep_if_faster(m);
  }
  return best;
}

// Prints `name N ns` and, unless told not to, `base_enters N enters/op` (base: the name
// without `_ns`), flushed at once so a slow figure shows up as soon as it is known.
inline void report(std::string_view name, const sample& s, bool with_enters = true) {
  fmt::print("{} {:.2f} ns\n", name, s.ns_per_op);
  if (with_enters) {
    std::string base(name);
    if (base.size() > 3 && base.ends_with("_ns")) base.resize(base.size() - 3);
    fmt::print("{}_enters {:.4f} enters/op\n", base, s.enters_per_op);
  }
  // bench/count_instructions divides callgrind's total by this (one figure per run).
  if (RUNNING_ON_VALGRIND) fmt::print("{} {} ops_counted\n", name, s.ops_counted);
  std::fflush(stdout);
}

// The command line every benchmark takes: `[--quick] [NAME...]`.
struct options {
  bool quick = false;                  // fewer iterations and repetitions, for a smoke run
  std::vector<std::string_view> only;  // run only these figures (empty: all)
  std::uint64_t scale = 1;             // iteration counts are divided by this
  int reps = 5;                        // repetitions per figure

  options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--quick") == 0)
        quick = true;
      else
        only.emplace_back(argv[i]);
    }
    if (quick) {
      scale = 20;
      reps = 2;
    }
  }
  bool wanted(std::string_view name) const {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  }
};

}  // namespace bench
