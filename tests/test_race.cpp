// coring::race: the first awaitable to finish wins, the others are cancelled and awaited
// before race returns; the variant's index names the winner.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/queue.hpp>
#include <coring/race.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <stdexcept>
#include <string>
#include <variant>

#include <unistd.h>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;

namespace {

task<int> value_when(coring::event& go, int v) {
  co_await go.wait();
  co_return v;
}

// Waits forever, recording whether it was cancelled.
task<std::string> never(bool& cancelled) {
  try {
    co_await coring::sleep(1h);
  } catch (const coring::cancelled&) {
    cancelled = true;
    throw;
  }
  co_return "never";
}

// Waits forever; when cancelled, awaits a cleanup (in a shield) before it lets go.
task<> slow_cleanup(bool& cleaned_up) {
  std::exception_ptr err;
  try {
    co_await coring::sleep(1h);
  } catch (const coring::cancelled&) {
    err = std::current_exception();
  }
  co_await coring::shield(coring::sleep(2ms));  // cleanup that awaits
  cleaned_up = true;
  std::rethrow_exception(err);
}

}  // namespace

TEST_CASE("race: the first to finish wins and index() names it") {
  coring::run([]() -> task<> {
    coring::event go;
    bool cancelled = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        co_await settle();
        go.set();
      });
      auto r = co_await coring::race(never(cancelled), value_when(go, 42), coring::sleep(1h));
      REQUIRE(r.index() == 1);
      CHECK(std::get<1>(r) == 42);
    });
    CHECK(cancelled);
  }());
}

TEST_CASE("race: losers are cancelled and awaited before race returns") {
  coring::run([]() -> task<> {
    bool cleaned = false;
    auto r = co_await coring::race(slow_cleanup(cleaned), coring::sleep(1ms));
    CHECK(r.index() == 1);
    CHECK(cleaned);  // the loser's awaiting cleanup ran to its end first
  }());
}

TEST_CASE("race: a task handle loses without being cancelled itself, only the wait is") {
  coring::run([]() -> task<> {
    coring::event go;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto worker = tg.spawn(value_when(go, 9), "worker");
      auto r = co_await coring::race(worker, coring::sleep(1ms));
      CHECK(r.index() == 1);
      CHECK_FALSE(worker.done());  // racing its handle does not cancel the task
      go.set();
      auto again = co_await coring::race(worker, coring::sleep(1h));
      REQUIRE(again.index() == 0);
      CHECK(std::get<0>(again) == 9);
      CHECK(worker.result() == 9);  // the race copied the value; the handle still has it
    });
  }());
}

TEST_CASE("race: the first finisher's exception propagates after the others are cancelled and awaited") {
  coring::run([]() -> task<> {
    bool cleaned = false;
    bool threw = false;
    try {
      co_await coring::race(slow_cleanup(cleaned), []() -> task<int> {
        co_await coring::checkpoint();
        throw std::runtime_error("first and failed");
      }());
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "first and failed";
      CHECK(cleaned);
    }
    CHECK(threw);
  }());
}

TEST_CASE("race: a later failure of a loser does not beat an earlier success") {
  coring::run([]() -> task<> {
    auto r = co_await coring::race([]() -> task<int> { co_return 1; }(), []() -> task<int> {
      co_await coring::checkpoint();
      co_await coring::checkpoint();
      throw std::runtime_error("too late");
    }());
    REQUIRE(r.index() == 0);
    CHECK(std::get<0>(r) == 1);
  }());
}

TEST_CASE("race: ties in one turn go to the earlier argument") {
  coring::run([]() -> task<> {
    auto r = co_await coring::race(coring::checkpoint(), coring::checkpoint());
    CHECK(r.index() == 0);
  }());
}

TEST_CASE("race: a queue get that loses consumes nothing") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    auto r = co_await coring::race(q.get(), coring::sleep(1ms));
    CHECK(r.index() == 1);
    q.put_nowait(5);
    auto s = co_await coring::race(q.get(), coring::sleep(1h));
    REQUIRE(s.index() == 0);
    CHECK(std::get<0>(s) == 5);
    CHECK(q.empty());
  }());
}

TEST_CASE("race: an I/O operation against a sleep") {
  coring::run([]() -> task<> {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    char buf[4];
    auto r = co_await coring::race(coring::detail::read_op(fds[0], buf, sizeof buf), coring::sleep(2ms));
    CHECK(r.index() == 1);  // nothing to read: the read was cancelled in the kernel
    ::close(fds[0]);
    ::close(fds[1]);
  }());
}

TEST_CASE("race: an outside cancellation cancels every contestant and propagates") {
  coring::run([]() -> task<> {
    bool cancelled = false;
    auto r = co_await coring::move_on_after(2ms, coring::race(never(cancelled), coring::sleep(1h)));
    CHECK_FALSE(r.has_value());
    CHECK(cancelled);
  }());
}

TEST_CASE("race: when every contestant ends cancelled, race throws cancelled") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto a = tg.spawn(coring::sleep(1h));
      auto b = tg.spawn(coring::sleep(1h));
      tg.spawn([&]() -> task<> {
        co_await settle();
        a.cancel();
        b.cancel();
      });
      CHECK_THROWS_AS(co_await coring::race(a, b), coring::cancelled);
    });
  }());
}

TEST_CASE("race: a loser failing while it is cancelled is reported with the winner's error") {
  coring::run([]() -> task<> {
    auto bad_loser = []() -> task<> {
      try {
        co_await coring::sleep(1h);
      } catch (const coring::cancelled&) {
        throw std::runtime_error("cleanup failed");
      }
    };
    try {
      co_await coring::race(bad_loser(), coring::sleep(1ms));
      FAIL("race should have thrown");
    } catch (const coring::exception_group& eg) {
      REQUIRE(eg.size() == 1);
      CHECK_THROWS_WITH(std::rethrow_exception(eg.entries()[0].error), "cleanup failed");
    }
  }());
}

TEST_CASE("race: costs no system call of its own") {
  coring::run([]() -> task<> {
    coring::event go;
    const auto before = coring::stats().enters;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        co_await settle();
        go.set();
      });
      auto r = co_await coring::race(value_when(go, 1), go.wait());
      CHECK(r.index() == 0);
    });
    CHECK(coring::stats().enters == before);
  }());
}
