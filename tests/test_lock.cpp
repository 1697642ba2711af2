// coring::lock: FIFO mutual exclusion on the fair wait list, cancellation-safe hand-off,
// no system calls.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/lock.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;

namespace {
// Takes the lock, notes `who` in `got`, and lets go.
task<> take_and_note(coring::lock& mu, std::vector<std::string>& got, std::string who) {
  auto held = co_await mu.acquire();
  got.push_back(std::move(who));
}

// Holds `mu` while waiters "a" and then "b" queue for it, then runs `step(held, a)` (which
// ends up releasing the guard `held`), and returns the names of the waiters that took the
// lock, in the order they took it.
template <class Step>
task<std::vector<std::string>> a_and_b_waiting(coring::lock& mu, Step step) {
  std::vector<std::string> got;
  co_await coring::with_task_group([&](task_group& tg) -> task<> {
    auto held = co_await mu.acquire();
    auto a = tg.spawn(take_and_note(mu, got, "a"));
    tg.spawn(take_and_note(mu, got, "b"));
    co_await settle();
    co_await step(held, a);
  });
  co_return got;
}
}  // namespace

TEST_CASE("lock: acquire returns a guard that unlocks when destroyed") {
  coring::run([]() -> task<> {
    coring::lock mu;
    CHECK_FALSE(mu.locked());
    {
      auto g = co_await mu.acquire();
      CHECK(g);
      CHECK(mu.locked());
    }
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("lock: a guard is movable and unlocks exactly once") {
  coring::run([]() -> task<> {
    coring::lock mu;
    auto g = co_await mu.acquire();
    coring::lock::guard h = std::move(g);
    CHECK_FALSE(g);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    CHECK(mu.locked());
    h.release();
    CHECK_FALSE(mu.locked());
    h.release();
    CHECK_FALSE(mu.locked());
    auto again = co_await mu.acquire();
    CHECK(mu.locked());
  }());
}

TEST_CASE("lock: try_acquire takes a free lock and refuses a held one") {
  coring::run([]() -> task<> {
    coring::lock mu;
    auto a = mu.try_acquire();
    CHECK(a);
    auto b = mu.try_acquire();
    CHECK_FALSE(b);
    a.release();
    CHECK(mu.try_acquire());
    co_return;
  }());
}

TEST_CASE("lock: waiters get the lock in FIFO order and nobody barges") {
  coring::run([]() -> task<> {
    coring::lock mu;
    std::vector<int> order;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto g = co_await mu.acquire();
      for (int i = 0; i < 5; ++i)
        tg.spawn([&, i]() -> task<> {
          auto held = co_await mu.acquire();
          order.push_back(i);
          co_await coring::checkpoint();  // hold it across a suspension
        });
      co_await settle();
      CHECK(mu.statistics().waiters == 5);
      g.release();
      // Released with waiters: the lock went to the first of them, not to a newcomer.
      CHECK(mu.locked());
      CHECK_FALSE(mu.try_acquire());
      co_return;
    });
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  }());
}

TEST_CASE("lock: only one task holds it at a time across suspensions") {
  coring::run([]() -> task<> {
    coring::lock mu;
    int inside = 0, most = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 10; ++i)
        tg.spawn([&]() -> task<> {
          for (int k = 0; k < 3; ++k) {
            auto g = co_await mu.acquire();
            most = std::max(most, ++inside);
            co_await coring::checkpoint();
            --inside;
          }
        });
      co_return;
    });
    CHECK(most == 1);
  }());
}

TEST_CASE("lock: a cancelled waiter does not take the lock and leaves the queue") {
  coring::run([]() -> task<> {
    coring::lock mu;
    auto cancel_a = [&](coring::lock::guard& held, coring::task_handle<void>& a) -> task<> {
      a.cancel();
      co_await settle();
      CHECK(a.cancelled());
      CHECK(mu.statistics().waiters == 1);
      held.release();
    };
    const std::vector<std::string> got = co_await a_and_b_waiting(mu, cancel_a);
    CHECK(got == std::vector<std::string>{"b"});
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("lock: a lock handed to a waiter cancelled before it resumed passes to the next") {
  coring::run([]() -> task<> {
    coring::lock mu;
    auto release_then_cancel_a = [&](coring::lock::guard& held, coring::task_handle<void>& a) -> task<> {
      held.release();  // handed to a, which is queued to run ...
      CHECK(mu.statistics().handing_off == 1);
      a.cancel();      // ... but cancelled before it ran: b gets it
      co_return;
    };
    const std::vector<std::string> got = co_await a_and_b_waiting(mu, release_then_cancel_a);
    CHECK(got == std::vector<std::string>{"b"});
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("lock: acquire is a cancellation point even when the lock is free") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::cancel_scope scope;
    scope.cancel();
    CHECK_THROWS_AS(co_await mu.acquire(), coring::cancelled);
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("lock: with_timeout over a contended acquire gives up without taking the lock") {
  coring::run([]() -> task<> {
    coring::lock mu;
    auto g = co_await mu.acquire();
    CHECK_THROWS_AS(co_await coring::with_timeout(1ms, mu.acquire()), coring::timeout_error);
    CHECK(mu.statistics().waiters == 0);
    g.release();
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("lock: acquiring and releasing make no system call") {
  coring::run([]() -> task<> {
    coring::lock mu;
    int done = 0;
    const auto before = coring::stats().enters;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 20; ++i)
        tg.spawn([&]() -> task<> {
          auto g = co_await mu.acquire();
          co_await coring::checkpoint();
          ++done;
        });
      co_return;
    });
    CHECK(done == 20);
    CHECK(mu.statistics().waited == 19);
    CHECK(coring::stats().enters == before);
  }());
}
