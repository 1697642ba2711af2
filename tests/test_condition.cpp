// coring::condition: asyncio.Condition over a coring::lock, FIFO notify(n), wait_for, and
// a cancelled wait that takes the lock back before it throws.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/condition.hpp>
#include <coring/lock.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;

TEST_CASE("condition: wait releases the lock and holds it again when it returns") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    bool held_after_wait = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        auto g = co_await mu.acquire();
        co_await cv.wait();
        held_after_wait = mu.locked() && !mu.try_acquire();
      });
      co_await settle();
      CHECK_FALSE(mu.locked());  // released while waiting
      CHECK(cv.waiting() == 1);
      auto g = co_await mu.acquire();
      cv.notify();
      CHECK(cv.waiting() == 0);
      co_await settle();
      CHECK_FALSE(held_after_wait);  // cannot have returned: we still hold the lock
      g.release();
      co_return;
    });
    CHECK(held_after_wait);
    CHECK_FALSE(mu.locked());
  }());
}

TEST_CASE("condition: notify(n) wakes the n longest waiters in order, notify_all the rest") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    std::vector<int> woke;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 5; ++i)
        tg.spawn([&, i]() -> task<> {
          auto g = co_await mu.acquire();
          co_await cv.wait();
          woke.push_back(i);
        });
      co_await settle(10);
      REQUIRE(cv.waiting() == 5);
      cv.notify(2);
      co_await settle(10);
      CHECK(woke == std::vector<int>{0, 1});
      cv.notify();
      co_await settle(10);
      CHECK(woke == std::vector<int>{0, 1, 2});
      cv.notify_all();
      co_await settle(10);
      CHECK(woke == std::vector<int>{0, 1, 2, 3, 4});
      cv.notify(3);  // nobody waits: nothing happens
    });
  }());
}

TEST_CASE("condition: wait_for checks the predicate with the lock held until it is true") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    std::deque<int> jobs;
    int checks = 0;
    std::vector<int> taken;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        auto g = co_await mu.acquire();
        bool ok = co_await cv.wait_for([&] {
          ++checks;
          CHECK(mu.locked());
          return jobs.size() >= 2;
        });
        CHECK(ok);
        taken.assign(jobs.begin(), jobs.end());
      });
      for (int j = 1; j <= 3; ++j) {
        co_await settle();
        auto g = co_await mu.acquire();
        jobs.push_back(j);
        cv.notify();
        if (j == 2) break;
      }
    });
    CHECK(taken == std::vector<int>{1, 2});
    CHECK(checks == 3);  // at first, after job 1 (still false), after job 2
  }());
}

TEST_CASE("condition: wait_for returns at once when the predicate already holds") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    auto g = co_await mu.acquire();
    int v = co_await cv.wait_for([] { return 7; });
    CHECK(v == 7);
    CHECK(mu.locked());
  }());
}

TEST_CASE("condition: a cancelled wait takes the lock back before it throws") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    bool held_when_cancelled = false;
    bool unlocked_after = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto w = tg.spawn([&]() -> task<> {
        auto g = co_await mu.acquire();
        try {
          co_await cv.wait();
        } catch (const coring::cancelled&) {
          held_when_cancelled = mu.locked() && !mu.try_acquire();
          throw;
        }
      });
      co_await settle();
      auto g = co_await mu.acquire();  // the waiter must queue for it
      w.cancel();
      co_await settle();
      CHECK_FALSE(w.done());  // blocked re-taking the lock, despite the cancellation
      g.release();
      co_await settle();
      CHECK(w.cancelled());
      unlocked_after = !mu.locked();  // its guard released the lock it re-took
      co_return;
    });
    CHECK(held_when_cancelled);
    CHECK(unlocked_after);
  }());
}

TEST_CASE("condition: a notification given to a waiter cancelled before it resumed passes to the next") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    std::vector<std::string> woke;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto a = tg.spawn([&]() -> task<> {
        auto g = co_await mu.acquire();
        co_await cv.wait();
        woke.push_back("a");
      });
      tg.spawn([&]() -> task<> {
        auto g = co_await mu.acquire();
        co_await cv.wait();
        woke.push_back("b");
      });
      co_await settle();
      cv.notify();  // to a ...
      a.cancel();   // ... cancelled before it ran: b is woken instead
      co_await settle(10);
      CHECK(a.cancelled());
      CHECK(woke == std::vector<std::string>{"b"});
    });
  }());
}

TEST_CASE("condition: wait without holding the lock throws logic_error") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    CHECK_THROWS_AS(co_await cv.wait(), std::logic_error);
    CHECK_THROWS_WITH(co_await cv.wait_for([] { return true; }), Catch::Contains("does not hold the lock"));
    bool other_holds = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto g = co_await mu.acquire();
      tg.spawn([&]() -> task<> {  // the lock is held, but by another task
        try {
          co_await cv.wait();
        } catch (const std::logic_error&) {
          other_holds = true;
        }
      });
      co_await settle();
    });
    CHECK(other_holds);
  }());
}

TEST_CASE("condition: a task cancelled before wait keeps the lock and gets cancelled") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    auto g = co_await mu.acquire();
    coring::cancel_scope scope;
    scope.cancel();
    CHECK_THROWS_AS(co_await cv.wait(), coring::cancelled);
    CHECK(mu.locked());
    CHECK(cv.waiting() == 0);
  }());
}

TEST_CASE("condition: waiting and notifying make no system call") {
  coring::run([]() -> task<> {
    coring::lock mu;
    coring::condition cv(mu);
    int produced = 0, consumed = 0;
    const auto before = coring::stats().enters;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        for (int i = 0; i < 50; ++i) {
          auto g = co_await mu.acquire();
          co_await cv.wait_for([&] { return produced > consumed; });
          ++consumed;
          cv.notify();
        }
      });
      for (int i = 0; i < 50; ++i) {
        auto g = co_await mu.acquire();
        co_await cv.wait_for([&] { return produced == consumed; });
        ++produced;
        cv.notify();
      }
    });
    CHECK(consumed == 50);
    CHECK(coring::stats().enters == before);
  }());
}
