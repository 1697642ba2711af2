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
//   spawn_join_1m_ns   the same with 1,000,000 children alive at once, spikes back to back
//                      in one runtime (as a busy service meets bursts: the loop keeps the
//                      memory while busy), best of the spikes after the first; its notes:
//                      spawn_join_1m_cold_ns, the first spike of the process (every page
//                      faulted in), the peak bytes per live task (RSS high-water mark over
//                      the RSS before, per task) and the RSS still held once the spike has
//                      finished: inside the runtime once its loop went idle, and after it
//                      (the frame pool's budget: frame_allocator.hpp)
//   spawn_wave_ns      spawn + join in waves of 8,192 children (one group per wave), per child
//   yield_8192_ns      8,192 tasks each yielding (checkpoint) in turn, round robin, per yield
// Lines ending in `enters/op` are coring's own io_uring_enter count per operation.
//
// Usage: bench_core [--quick] [NAME...]
//   --quick: fewer iterations, for a smoke run; NAME...: run only these figures (for perf).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
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

coring::task<measured> spawn_wave_rep(std::uint64_t waves, std::uint64_t per_wave) {
  stopwatch w;
  for (std::uint64_t k = 0; k < waves; ++k)
    co_await coring::with_task_group([per_wave](coring::task_group& tg) -> coring::task<> {
      for (std::uint64_t i = 0; i < per_wave; ++i) tg.spawn(trivial());
      co_return;
    });
  co_return w.stop(waves * per_wave);
}

coring::task<> yielder(std::uint64_t k) {
  for (std::uint64_t i = 0; i < k; ++i) co_await coring::checkpoint();
}

// `tasks` tasks each yield `k` times: every loop turn resumes each of them once.
coring::task<measured> yield_many_rep(std::uint64_t tasks, std::uint64_t k) {
  stopwatch w;
  co_await coring::with_task_group([tasks, k](coring::task_group& tg) -> coring::task<> {
    for (std::uint64_t i = 0; i < tasks; ++i) tg.spawn(yielder(k));
    co_return;
  });
  co_return w.stop(tasks * k);
}

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"), 0 if it cannot be read.
std::uint64_t status_kb(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  return 0;
}

// Resets VmHWM to the present RSS (Linux 4.0+), so the peak seen next is this figure's.
void reset_peak_rss() {
  if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

// The 1M-alive spawn + join, with its memory figures: peak bytes per live task, and the RSS
// still held after the spike (inside the runtime once the group finished, and after it).
struct spike_memory {
  measured cold;  // the spike itself, the first of the process
  double peak_bytes_per_task = 0;
  double kept_inside_mb = 0;
  double kept_after_mb = 0;
};

// "Before" is read inside the runtime, so the ring's own memory is not billed to the tasks.
spike_memory spike_once(std::uint64_t n) {
  spike_memory m;
  std::uint64_t before = 0;
  coring::run([](std::uint64_t n, std::uint64_t& before, spike_memory& m) -> coring::task<> {
    reset_peak_rss();
    before = status_kb("VmRSS");
    m.cold = co_await spawn_join_rep(n, trivial);
    co_await coring::sleep(1ms);  // the loop goes idle once, as a service does between bursts
    m.kept_inside_mb = (double(status_kb("VmRSS")) - double(before)) / 1024.0;
  }(n, before, m));
  m.peak_bytes_per_task = (double(status_kb("VmHWM")) - double(before)) * 1024.0 / double(n);
  m.kept_after_mb = (double(status_kb("VmRSS")) - double(before)) / 1024.0;
  return m;
}

// `spikes` spikes of n children back to back in one runtime, with no idle moment between
// them; the fastest of those after the first (which refills the pools the previous
// runtime handed back). ops_counted covers every spike, for bench/count_instructions.
bench::sample warm_spikes(int spikes, std::uint64_t n) {
  bench::sample best;
  coring::run([](int spikes, std::uint64_t n, bench::sample& best) -> coring::task<> {
    for (int k = 0; k <= spikes; ++k) {
      const measured m = co_await spawn_join_rep(n, trivial);
      best.ops_counted += m.ops;
      if (k > 0) best.keep_if_faster(m);
    }
  }(spikes, n, best));
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options opt(argc, argv);

  // The spike's memory is measured first, on a process that has had no task yet: the pools
  // a smaller figure leaves (within their budget) would be reused by the spike and hide part
  // of what a live task takes (187 instead of 208 bytes, measured after spawn_join_ns).
  std::optional<spike_memory> spike;
  if (opt.wanted("spawn_join_1m_ns")) spike = spike_once(1'000'000);
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
  if (spike) {
    const spike_memory& m = *spike;
    report("spawn_join_1m_ns", warm_spikes(std::min(opt.reps, 3), 1'000'000));
    fmt::print("spawn_join_1m_cold_ns {:.2f} ns\n", m.cold.ns_per_op());
    fmt::print("spawn_join_1m_peak {:.0f} bytes/task\n", m.peak_bytes_per_task);
    fmt::print("spawn_join_1m_kept_in_runtime {:.1f} MB\n", m.kept_inside_mb);
    fmt::print("spawn_join_1m_kept_after_runtime {:.1f} MB\n", m.kept_after_mb);
    std::fflush(stdout);
  }
  if (opt.wanted("spawn_wave_ns"))
    report("spawn_wave_ns", best_of(opt.reps, [] { return spawn_wave_rep(12, 8'192); }));
  if (opt.wanted("yield_8192_ns"))
    report("yield_8192_ns", best_of(opt.reps, [&] { return yield_many_rep(8'192, 200 / opt.scale); }));
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
