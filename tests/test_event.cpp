#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <fmt/format.h>

#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

using coring_test::settle;

namespace {

// A waiter that counts, in `woke`, that its wait returned.
task<> wait_and_count(coring::event& ev, int& woke) {
  co_await ev.wait();
  ++woke;
}

}  // namespace

TEST_CASE("event: set wakes every waiter in the order they waited") {
  coring::run([]() -> task<> {
    coring::event ev;
    std::vector<int> order;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 3; ++i) {
        tg.spawn([&, i]() -> task<> {
          co_await ev.wait();
          order.push_back(i);
        });
        co_await coring::checkpoint();
      }
      co_await settle();
      CHECK(order.empty());
      CHECK(ev.statistics().waiters == 3);
      ev.set();
      CHECK(ev.is_set());
      co_return;
    });
    CHECK(order == std::vector<int>{0, 1, 2});
  }());
}

TEST_CASE("event: wait on a set event returns at once") {
  coring::run([]() -> task<> {
    coring::event ev;
    ev.set();
    const auto before = coring::stats();
    co_await ev.wait();
    CHECK(coring::stats().iterations == before.iterations);  // did not even yield
  }());
}

TEST_CASE("event: after clear, wait blocks until the next set") {
  coring::run([]() -> task<> {
    coring::event ev;
    ev.set();
    ev.clear();
    CHECK_FALSE(ev.is_set());
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<> { co_await ev.wait(); });
      co_await settle();
      CHECK_FALSE(h.done());
      ev.set();
      co_await settle();
      CHECK(h.done());
    });
  }());
}

TEST_CASE("event: waiters woken by set return even if clear comes before they run") {
  coring::run([]() -> task<> {
    coring::event ev;
    int woke = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 2; ++i) tg.spawn(wait_and_count(ev, woke));
      co_await settle();
      ev.set();
      ev.clear();
      co_return;
    });
    CHECK(woke == 2);
  }());
}

TEST_CASE("event: a cancelled wait leaves the list and the other waiters still wake") {
  coring::run([]() -> task<> {
    coring::event ev;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto a = tg.spawn([&]() -> task<> { co_await ev.wait(); });
      auto b = tg.spawn([&]() -> task<> { co_await ev.wait(); });
      co_await settle();
      a.cancel();
      co_await settle();
      CHECK(a.cancelled());
      CHECK(ev.statistics().waiters == 1);
      ev.set();
      co_await settle();
      CHECK(b.done());
      CHECK_FALSE(b.cancelled());
    });
  }());
}

TEST_CASE("event: a waiter woken by set and cancelled before it runs still returns normally") {
  coring::run([]() -> task<> {
    coring::event ev;
    bool returned = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<> {
        co_await ev.wait();
        returned = true;
      });
      co_await settle();
      ev.set();
      h.cancel();  // the wait already succeeded; the cancel comes at the next suspension
      co_return;
    });
    CHECK(returned);
  }());
}

TEST_CASE("event: wait in a cancelled scope throws cancelled even when the event is set") {
  coring::run([]() -> task<> {
    coring::event ev;
    ev.set();
    coring::cancel_scope scope;
    scope.cancel();
    bool threw = false;
    try {
      co_await ev.wait();
    } catch (const coring::cancelled&) {
      threw = true;
    }
    CHECK(threw);
  }());
}

TEST_CASE("event: with_timeout around wait throws timeout_error and leaves no waiter behind") {
  coring::run([]() -> task<> {
    coring::event ev;
    CHECK_THROWS_AS(co_await coring::with_timeout(2ms, ev.wait()), coring::timeout_error);
    CHECK(ev.statistics().waiters == 0);
    auto r = co_await coring::move_on_after(2ms, ev.wait());
    CHECK_FALSE(r);
  }());
}

TEST_CASE("event: 10,000 waiters woken by one set make no system call") {
  coring::run([]() -> task<> {
    coring::event ev;
    int woke = 0;
    const auto before = coring::stats();
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 10000; ++i) tg.spawn(wait_and_count(ev, woke));
      co_await settle();
      ev.set();
      co_return;
    });
    CHECK(woke == 10000);
    CHECK(coring::stats().enters == before.enters);
  }());
}

TEST_CASE("event: statistics are fmt-formattable") {
  coring::event ev;
  ev.set();
  CHECK(fmt::format("{}", ev.statistics()) == "event(is_set=true waiters=0 sets=1)");
}

TEST_CASE("event: a wait on an event nobody sets is reported as a deadlock") {
  CHECK_THROWS_WITH(coring::run([]() -> task<> {
                      coring::event ev;
                      co_await ev.wait();
                    }()),
                    Catch::Contains("deadlock"));
}
