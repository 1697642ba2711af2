#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>
#include <coring/detail/testing.hpp>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {
coring::task<int> answer() { co_return 42; }
coring::task<int> add_one() { co_return co_await answer() + 1; }
constexpr coring::runtime_options virtual_time{.virtual_time = true};
}  // namespace

TEST_CASE("runtime: run returns the main task's value") {
  REQUIRE(coring::run(add_one()) == 43);
}

TEST_CASE("runtime: an exception from main reaches the caller of run") {
  auto bad = []() -> coring::task<> {
    co_await coring::checkpoint();
    throw std::runtime_error("boom");
  };
  REQUIRE_THROWS_WITH(coring::run(bad()), "boom");
}

TEST_CASE("runtime: a sleep costs one io_uring_enter and a checkpoint none") {
  coring::run([]() -> coring::task<> {
    auto before = coring::stats();
    co_await coring::sleep(2ms);
    auto mid = coring::stats();
    CHECK(mid.enters - before.enters == 1);
    for (int i = 0; i < 1000; ++i) co_await coring::checkpoint();
    CHECK(coring::stats().enters == mid.enters);
  }());
}

TEST_CASE("runtime: under virtual time a sleep with nothing in flight costs no io_uring_enter") {
  coring::run([]() -> coring::task<> {
    const auto before = coring::stats();
    const auto t0 = coring::clock::now();
    co_await coring::sleep(2ms);
    CHECK(coring::stats().enters == before.enters);  // the clock jumped; nothing to submit
    CHECK(coring::stats().timers - before.timers == 1);
    CHECK(coring::clock::now() - t0 == 2ms);
  }(), virtual_time);
}

TEST_CASE("runtime: sleep and checkpoint convert to tasks where a task is needed") {
  coring::run([]() -> coring::task<> {
    coring::task<> s = coring::sleep(1ms);
    coring::task<> c = coring::checkpoint();
    auto before = coring::stats().timers;
    co_await std::move(s);
    co_await std::move(c);
    CHECK(coring::stats().timers - before == 1);
  }(), virtual_time);
}

TEST_CASE("runtime: awaiting outside a runtime is a clear logic error") {
  CHECK_THROWS_AS(coring::detail::current_loop(), std::logic_error);
}

TEST_CASE("runtime: stats after run reports the last runtime's counters") {
  coring::run([]() -> coring::task<> { co_await coring::sleep(1ms); }());
  auto s = coring::stats();
  CHECK(s.enters >= 1);
  CHECK(s.timers == 1);
  CHECK_FALSE(s.ring_flags.empty());
  CHECK(fmt::format("{}", s).find("enters=") == 0);
}

TEST_CASE("runtime: the ready queue stays first-in first-out while it grows around its end") {
  std::vector<int> order;
  coring::run([](std::vector<int>& order) -> coring::task<> {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      // Advance the queue's head so that later growth happens with the entries wrapped.
      for (int i = 0; i < 700; ++i) tg.spawn(coring::checkpoint());
      co_await coring::checkpoint();
      co_await coring::checkpoint();
      for (int i = 0; i < 5000; ++i)
        tg.spawn([&order, i]() -> coring::task<> {
          order.push_back(i);
          co_return;
        });
    });
  }(order));
  REQUIRE(order.size() == 5000);
  CHECK(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("runtime: the ready queue keeps a spike's buffer while busy and gives it back once idle") {
  namespace t = coring::detail::testing;
  std::size_t at_start = 0, in_spike = 0, after_spike = 0, when_idle = 0;
  coring::run([&]() -> coring::task<> {
    at_start = t::access::ready_capacity();
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (int i = 0; i < 100'000; ++i) tg.spawn(coring::checkpoint());
      in_spike = t::access::ready_capacity();
      co_return;
    });
    after_spike = t::access::ready_capacity();  // busy all along: nothing handed back yet
    co_await coring::sleep(1ms);                // the loop waits in the kernel: idle
    when_idle = t::access::ready_capacity();
  }());  // the lambda, with its captures, lives until run has returned
  CHECK(in_spike >= 100'000);
  CHECK(after_spike == in_spike);
  CHECK(when_idle == at_start);
  CHECK(at_start < 100'000 / 16);
}

namespace {
// A deterministic scramble (a linear congruential generator), so the heap sees insertions
// and removals in no particular order.
std::uint32_t scramble(std::uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}
}  // namespace

TEST_CASE("runtime: the timer heap fires in deadline order while timers are removed from its middle") {
  struct fired {
    coring::duration at;
    int id;
  };
  std::vector<fired> log;
  coring::run([](std::vector<fired>& log) -> coring::task<> {
    const auto t0 = coring::clock::now();
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      std::uint32_t rng = 12345;
      for (int i = 0; i < 2000; ++i) {
        const auto d = std::chrono::milliseconds(scramble(rng) % 5000);
        const auto limit = std::chrono::milliseconds(scramble(rng) % 5000);
        // Every third sleeper is cut short by a deadline of its own: its timer leaves the
        // heap from wherever it sits.
        tg.spawn([&log, t0, d, limit, i]() -> coring::task<> {
          if (i % 3 == 0) {
            if (!co_await coring::move_on_after(limit, coring::sleep(d))) co_return;
          } else {
            co_await coring::sleep(d);
          }
          log.push_back({coring::clock::now() - t0, i});
          CHECK(coring::clock::now() - t0 == d);  // exactly on time
        });
      }
      co_return;
    });
  }(log), virtual_time);
  CHECK(log.size() > 1300);
  // By deadline, and equal deadlines in the order the sleeps began (spawn order).
  CHECK(std::is_sorted(log.begin(), log.end(), [](const fired& a, const fired& b) {
    return std::tie(a.at, a.id) < std::tie(b.at, b.id);
  }));
}
