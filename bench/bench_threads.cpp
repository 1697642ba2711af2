// Multi-thread benchmarks (issue 13): the cost of crossing loop threads.
//
// Output (bench/run_all prints it; there is no asyncio peer: one asyncio loop is one thread):
//   on_thread_ns       co_await coring::on_thread(1, f) from thread 0, f a trivial task: the
//                      whole round trip (start message, child task on thread 1, done message)
//   channel_ns         one item through a coring::channel<int>(1024) from a producer on
//                      thread 1 to a consumer on thread 0, per item
//   ..._wakeups        wake-up messages (MSG_RING or eventfd) received per operation by
//                      both loops: far below 1 when hand-offs are batched
// Both threads share the machine's cores with everything else; each figure is the best of
// several repetitions.
//
// Usage: bench_threads [--quick] [NAME...]
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include <coring/channel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/thread.hpp>

#include "bench_util.hpp"

namespace {

struct result {
  double ns = 0;
  double wakeups = 0;
};

coring::task<std::uint64_t> wakeups_so_far() {
  const auto per = co_await coring::thread_stats();
  co_return coring::total(per).wakeups_received;
}

coring::task<result> on_thread_rep(std::uint64_t n) {
  const std::uint64_t w0 = co_await wakeups_so_far();
  const auto t0 = bench::clock_type::now();
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i)
    sum += co_await coring::on_thread(1, [i]() -> coring::task<std::uint64_t> { co_return i; });
  const auto t1 = bench::clock_type::now();
  if (sum != n * (n - 1) / 2) throw std::runtime_error("on_thread: wrong sum");
  const std::uint64_t w1 = co_await wakeups_so_far();
  co_return result{static_cast<double>((t1 - t0).count()) / static_cast<double>(n),
                   static_cast<double>(w1 - w0) / static_cast<double>(n)};
}

coring::task<result> channel_rep(std::uint64_t n) {
  coring::channel<int> ch(1024);
  const std::uint64_t w0 = co_await wakeups_so_far();
  const auto t0 = bench::clock_type::now();
  std::uint64_t sum = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn_on(1, [&]() -> coring::task<> {
      for (std::uint64_t i = 0; i < n; ++i) co_await ch.put(static_cast<int>(i & 0xffff));
    });
    for (std::uint64_t i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(co_await ch.get());
  });
  const auto t1 = bench::clock_type::now();
  std::uint64_t want = 0;
  for (std::uint64_t i = 0; i < n; ++i) want += i & 0xffff;
  if (sum != want) throw std::runtime_error("channel: wrong sum");
  const std::uint64_t w1 = co_await wakeups_so_far();
  co_return result{static_cast<double>((t1 - t0).count()) / static_cast<double>(n),
                   static_cast<double>(w1 - w0) / static_cast<double>(n)};
}

template <class Rep>
void measure(const bench::options& o, const char* name, std::uint64_t n, Rep rep) {
  if (!o.wanted(name)) return;
  coring::runtime_options opts;
  opts.threads = 2;
  result best{1e300, 0};
  for (int r = 0; r < o.reps; ++r) {
    const result got = coring::run(rep(n / o.scale), opts);
    if (got.ns < best.ns) best = got;
  }
  fmt::print("{}_ns {:.2f} ns\n", name, best.ns);
  fmt::print("{}_wakeups {:.4f} wakeups/op\n", name, best.wakeups);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o(argc, argv);
  measure(o, "on_thread", 200000, on_thread_rep);
  measure(o, "channel", 2000000, channel_rep);
  return 0;
}
