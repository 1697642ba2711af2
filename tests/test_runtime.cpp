#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <algorithm>
#include <vector>

using namespace std::chrono_literals;

namespace {
coring::task<int> answer() { co_return 42; }
coring::task<int> add_one() { co_return co_await answer() + 1; }
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

TEST_CASE("runtime: sleep and checkpoint convert to tasks where a task is needed") {
  coring::run([]() -> coring::task<> {
    coring::task<> s = coring::sleep(1ms);
    coring::task<> c = coring::checkpoint();
    auto before = coring::stats().timers;
    co_await std::move(s);
    co_await std::move(c);
    CHECK(coring::stats().timers - before == 1);
  }());
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
