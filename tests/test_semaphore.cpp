#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/semaphore.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <fmt/format.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

using coring_test::settle;

TEST_CASE("semaphore: a negative initial value throws invalid_argument") {
  CHECK_THROWS_AS(coring::semaphore(-1), std::invalid_argument);
  CHECK_THROWS_WITH(coring::semaphore(-3), Catch::Contains("-3") && Catch::Contains("0 or more"));
  CHECK_NOTHROW(coring::semaphore(0));
}

TEST_CASE("semaphore: acquire takes a unit and the permit gives it back when destroyed") {
  coring::run([]() -> task<> {
    coring::semaphore sem(2);
    {
      auto a = co_await sem.acquire();
      CHECK(a);
      CHECK(sem.value() == 1);
      auto b = co_await sem.acquire();
      CHECK(sem.value() == 0);
      CHECK(sem.locked());
    }
    CHECK(sem.value() == 2);
    CHECK(sem.statistics().acquired == 2);
  }());
}

TEST_CASE("semaphore: a permit is movable and releases exactly once") {
  coring::run([]() -> task<> {
    coring::semaphore sem(1);
    {
      auto p = co_await sem.acquire();
      coring::semaphore::permit q = std::move(p);
      CHECK_FALSE(p);  // NOLINT(bugprone-use-after-move): checking the moved-from state
      CHECK(q);
      CHECK(sem.value() == 0);
      q.release();
      CHECK(sem.value() == 1);
      q.release();
      CHECK(sem.value() == 1);
      coring::semaphore::permit r = co_await sem.acquire();
      r = coring::semaphore::permit();  // move-assigning releases the old unit
      CHECK(sem.value() == 1);
    }
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: try_acquire returns an empty permit when no unit is free") {
  coring::semaphore sem(1);
  auto a = sem.try_acquire();
  CHECK(a);
  auto b = sem.try_acquire();
  CHECK_FALSE(b);
  a.release();
  CHECK(sem.value() == 1);
}

TEST_CASE("semaphore: release raises the count of a semaphore(0) used as a signal") {
  coring::semaphore sem(0);
  CHECK_FALSE(sem.try_acquire());
  sem.release();
  sem.release();
  CHECK(sem.value() == 2);
}

TEST_CASE("semaphore: waiters get units in FIFO order") {
  coring::run([]() -> task<> {
    coring::semaphore sem(0);
    std::vector<int> order;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 5; ++i) {
        tg.spawn([&, i]() -> task<> {
          auto p = co_await sem.acquire();
          order.push_back(i);
          p.release();  // straight to the next waiter
        });
        co_await coring::checkpoint();
      }
      CHECK(sem.statistics().waiters == 5);
      sem.release();  // each waiter passes the unit on when done
      co_return;
    });
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: a task that releases and acquires again cannot barge past a waiter") {
  coring::run([]() -> task<> {
    coring::semaphore sem(1);
    std::vector<char> order;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto p = co_await sem.acquire();
      tg.spawn([&]() -> task<> {
        auto q = co_await sem.acquire();
        order.push_back('B');
      });
      co_await settle();
      p.release();  // handed to B, which has not run yet
      CHECK(sem.value() == 0);
      CHECK_FALSE(sem.try_acquire());
      auto again = co_await sem.acquire();  // queues behind B
      order.push_back('A');
    });
    CHECK(order == std::vector<char>{'B', 'A'});
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: a cancelled acquire never changes the count") {
  coring::run([]() -> task<> {
    coring::semaphore sem(0);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<> { auto p = co_await sem.acquire(); });
      co_await settle();
      CHECK(sem.statistics().waiters == 1);
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    CHECK(sem.value() == 0);
    CHECK(sem.statistics().waiters == 0);
    sem.release();
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: an acquire in a cancelled scope throws cancelled even when a unit is free") {
  coring::run([]() -> task<> {
    coring::semaphore sem(1);
    coring::cancel_scope scope;
    scope.cancel();
    bool threw = false;
    try {
      auto p = co_await sem.acquire();
    } catch (const coring::cancelled&) {
      threw = true;
    }
    CHECK(threw);
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: a permit handed to a cancelled waiter passes to the next waiter") {
  coring::run([]() -> task<> {
    coring::semaphore sem(0);
    bool second_got_it = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = tg.spawn([&]() -> task<> { auto p = co_await sem.acquire(); });
      co_await coring::checkpoint();
      auto second = tg.spawn([&]() -> task<> {
        auto p = co_await sem.acquire();
        second_got_it = true;
        co_await coring::checkpoint();
      });
      co_await settle();
      sem.release();   // handed to `first`...
      first.cancel();  // ...which is cancelled before it resumes
      co_await settle();
      CHECK(first.cancelled());
      CHECK(second.done());
    });
    CHECK(second_got_it);
    CHECK(sem.value() == 1);
    CHECK(sem.statistics().acquired == 1);
  }());
}

TEST_CASE("semaphore: a permit handed to a cancelled waiter goes back to the count when nobody else waits") {
  coring::run([]() -> task<> {
    coring::semaphore sem(0);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<> { auto p = co_await sem.acquire(); });
      co_await settle();
      sem.release();
      CHECK(sem.statistics().handing_off == 1);
      h.cancel();
      CHECK(sem.value() == 1);
      co_return;
    });
    CHECK(sem.value() == 1);
    CHECK(sem.statistics().handing_off == 0);
  }());
}

TEST_CASE("semaphore: with_timeout around acquire throws timeout_error and leaves the count alone") {
  coring::run([]() -> task<> {
    coring::semaphore sem(1);
    auto held = co_await sem.acquire();
    CHECK_THROWS_AS(co_await coring::with_timeout(2ms, sem.acquire()), coring::timeout_error);
    CHECK(sem.value() == 0);
    CHECK(sem.statistics().waiters == 0);
    held.release();
    CHECK(sem.value() == 1);
  }());
}

TEST_CASE("semaphore: semaphore(10) keeps at most 10 of 1000 spawned tasks inside, with no system call") {
  coring::run([]() -> task<> {
    coring::semaphore sem(10);
    int inside = 0, peak = 0, finished = 0;
    const auto before = coring::stats();
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 1000; ++i)
        tg.spawn([&]() -> task<> {
          auto p = co_await sem.acquire();
          ++inside;
          peak = std::max(peak, inside);
          co_await coring::checkpoint();
          co_await coring::checkpoint();
          --inside;
          ++finished;
        });
      co_return;
    });
    CHECK(finished == 1000);
    CHECK(peak == 10);
    CHECK(sem.value() == 10);
    CHECK(coring::stats().enters == before.enters);
  }());
}

TEST_CASE("semaphore: statistics are fmt-formattable") {
  coring::semaphore sem(3);
  auto p = sem.try_acquire();
  CHECK(fmt::format("{}", sem.statistics()) ==
        "semaphore(value=2 waiters=0 handing_off=0 acquired=1 waited=0)");
}

TEST_CASE("semaphore: an acquire nobody can satisfy is reported as a deadlock") {
  CHECK_THROWS_WITH(coring::run([]() -> task<> {
                      coring::semaphore sem(0);
                      auto p = co_await sem.acquire();
                    }()),
                    Catch::Contains("deadlock"));
}
