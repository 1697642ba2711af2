// coring::barrier: n tasks meet, all go on together, the barrier is reused by the next
// round, and a cancelled waiter does not count.
#include <catch2/catch.hpp>

#include <coring/barrier.hpp>
#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <stdexcept>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;

TEST_CASE("barrier: 0 parties throws invalid_argument") {
  CHECK_THROWS_AS(coring::barrier(0), std::invalid_argument);
  CHECK_THROWS_WITH(coring::barrier(0), Catch::Contains("1 or more"));
}

TEST_CASE("barrier: the n-th arrival releases all n tasks") {
  coring::run([]() -> task<> {
    coring::barrier b(3);
    int passed = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 2; ++i)
        tg.spawn([&]() -> task<> {
          co_await b.wait();
          ++passed;
        });
      co_await settle();
      CHECK(b.waiting() == 2);
      CHECK(passed == 0);
      co_await b.wait();  // the third: returns at once and releases the others
      ++passed;
      CHECK(b.waiting() == 0);
      CHECK(b.generation() == 1);
    });
    CHECK(passed == 3);
  }());
}

TEST_CASE("barrier: it is reusable round after round, nobody running ahead") {
  coring::run([]() -> task<> {
    constexpr int n = 4, rounds = 5;
    coring::barrier b(n);
    std::vector<int> round_of(n, 0);
    bool ahead = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < n; ++i)
        tg.spawn([&, i]() -> task<> {
          for (int r = 0; r < rounds; ++r) {
            round_of[i] = r;
            for (int k = 0; k < i; ++k) co_await coring::checkpoint();  // arrive at different times
            co_await b.wait();
            for (int other : round_of)
              if (other < r) ahead = true;  // someone released before everyone reached round r
          }
        });
      co_return;
    });
    CHECK_FALSE(ahead);
    CHECK(b.generation() == rounds);
  }());
}

TEST_CASE("barrier: a cancelled waiter does not count towards the n") {
  coring::run([]() -> task<> {
    coring::barrier b(2);
    bool second_passed = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = tg.spawn([&]() -> task<> { co_await b.wait(); });
      co_await settle();
      first.cancel();
      co_await settle();
      CHECK(first.cancelled());
      CHECK(b.waiting() == 0);
      auto second = tg.spawn([&]() -> task<> {
        co_await b.wait();
        second_passed = true;
      });
      co_await settle();
      CHECK_FALSE(second_passed);  // the cancelled one left: one more is needed
      CHECK(b.waiting() == 1);
      co_await b.wait();
    });
    CHECK(second_passed);
  }());
}

TEST_CASE("barrier: a released waiter cancelled before it runs still passes") {
  coring::run([]() -> task<> {
    coring::barrier b(2);
    bool passed = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto w = tg.spawn([&]() -> task<> {
        co_await b.wait();
        passed = true;
      });
      co_await settle();
      co_await b.wait();  // releases w
      w.cancel();         // too late: the release is final
      co_return;
    });
    CHECK(passed);
  }());
}

TEST_CASE("barrier: wait is a cancellation point, and a cancelled last arrival releases nobody") {
  coring::run([]() -> task<> {
    coring::barrier b(2);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto w = tg.spawn([&]() -> task<> { co_await b.wait(); });
      co_await settle();
      {
        coring::cancel_scope scope;
        scope.cancel();
        CHECK_THROWS_AS(co_await b.wait(), coring::cancelled);
      }
      CHECK(b.waiting() == 1);
      CHECK(b.generation() == 0);
      co_await b.wait();
      co_return;
    });
    CHECK(b.generation() == 1);
  }());
}

TEST_CASE("barrier: one party never waits") {
  coring::run([]() -> task<> {
    coring::barrier b(1);
    co_await b.wait();
    co_await b.wait();
    CHECK(b.generation() == 2);
  }());
}

TEST_CASE("barrier: waiting and releasing make no system call") {
  coring::run([]() -> task<> {
    coring::barrier b(8);
    const auto before = coring::stats().enters;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 8; ++i)
        tg.spawn([&]() -> task<> {
          for (int r = 0; r < 10; ++r) co_await b.wait();
        });
      co_return;
    });
    CHECK(b.generation() == 10);
    CHECK(coring::stats().enters == before);
  }());
}
