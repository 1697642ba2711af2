// co_await on a task_handle: the task's result, exception or cancellation, without
// cancelling it; the awaiter's own cancellation only stops the wait.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;

namespace {

task<int> answer_when(coring::event& go, int v) {
  co_await go.wait();
  co_return v;
}

task<int> fail_when(coring::event& go) {
  co_await go.wait();
  throw std::runtime_error("boom");
}

}  // namespace

TEST_CASE("co_await handle: returns the task's value once it finishes") {
  coring::run([]() -> task<> {
    coring::event go;
    int got = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn(answer_when(go, 42));
      tg.spawn([&]() -> task<> {
        co_await settle();
        go.set();
      });
      got = co_await h;
      CHECK(h.done());
    });
    CHECK(got == 42);
  }());
}

TEST_CASE("co_await handle: returns at once when the task has already finished") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([]() -> task<std::string> { co_return "done"; });
      co_await settle();
      REQUIRE(h.done());
      const auto before = coring::stats().iterations;
      std::string s = co_await h;
      CHECK(s == "done");
      CHECK(coring::stats().iterations == before);  // did not suspend
    });
  }());
}

TEST_CASE("co_await handle: rethrows the task's exception (the awaiter learns it before the group cancels it)") {
  coring::run([]() -> task<> {
    coring::event go;
    bool caught = false;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto h = tg.spawn(fail_when(go), "failing");
        tg.spawn([&]() -> task<> {
          co_await settle();
          go.set();
        });
        try {
          co_await h;
        } catch (const std::runtime_error& e) {
          caught = std::string(e.what()) == "boom";
        }
      });
    } catch (const coring::exception_group& eg) {
      CHECK(eg.size() == 1);  // the child's failure, reported once
    }
    CHECK(caught);
  }());
}

TEST_CASE("co_await handle: throws cancelled when the task was cancelled") {
  coring::run([]() -> task<> {
    bool threw_cancelled = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn(coring::sleep(10s));
      tg.spawn([&]() -> task<> {
        try {
          co_await h;
        } catch (const coring::cancelled&) {
          threw_cancelled = true;  // the awaiter itself is not cancelled: it returns normally
        }
      });
      co_await settle();
      h.cancel();
    });
    CHECK(threw_cancelled);
  }());
}

TEST_CASE("co_await handle: a cancelled awaiter stops waiting and the task goes on") {
  coring::run([]() -> task<> {
    coring::event go;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto worker = tg.spawn(answer_when(go, 7), "worker");
      auto waiter = tg.spawn([worker]() -> task<int> { co_return co_await worker; }, "waiter");
      co_await settle();
      waiter.cancel();
      co_await settle();
      CHECK(waiter.done());
      CHECK(waiter.cancelled());
      CHECK_FALSE(worker.done());  // awaiting did not cancel the task
      go.set();
      int v = co_await worker;
      CHECK(v == 7);
    });
  }());
}

TEST_CASE("co_await handle: a cancelled awaiter gets cancelled even when the task has finished") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([]() -> task<int> { co_return 1; });
      co_await settle();
      REQUIRE(h.done());
      coring::cancel_scope scope;
      scope.cancel();
      bool cancelled = false;
      try {
        co_await h;
      } catch (const coring::cancelled&) {
        cancelled = true;
      }
      CHECK(cancelled);
    });
  }());
}

TEST_CASE("co_await handle: several tasks may await the same handle and each gets the value") {
  coring::run([]() -> task<> {
    coring::event go;
    std::vector<int> seen;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn(answer_when(go, 5));
      for (int i = 0; i < 3; ++i)
        tg.spawn([&seen, h]() -> task<> {
          int v = co_await h;
          seen.push_back(v);
        });
      co_await settle();
      go.set();
      co_return;
    });
    CHECK(seen == std::vector<int>{5, 5, 5});
  }());
}

TEST_CASE("co_await handle: an rvalue handle moves a value nobody else shares, copies a shared one") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      std::unique_ptr<int> p = co_await tg.spawn([]() -> task<std::unique_ptr<int>> {
        co_return std::make_unique<int>(3);
      });
      REQUIRE(p);
      CHECK(*p == 3);
      auto h = tg.spawn([]() -> task<std::string> { co_return std::string(100, 'x'); });
      auto copy = h;
      std::string s = co_await std::move(h);
      CHECK(s.size() == 100);
      CHECK(copy.result().size() == 100);  // still there for the other handle
    });
  }());
}

TEST_CASE("co_await handle: a task awaiting its own handle gets logic_error; an empty handle too") {
  coring::run([]() -> task<> {
    coring::task_handle<void> self;
    coring::event ready;
    bool logic = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      self = tg.spawn([&]() -> task<> {
        co_await ready.wait();
        try {
          co_await self;
        } catch (const std::logic_error& e) {
          logic = std::string(e.what()).find("its own handle") != std::string::npos;
        }
      });
      ready.set();
      co_return;
    });
    CHECK(logic);
    coring::task_handle<int> empty;
    CHECK_THROWS_AS(co_await empty, std::logic_error);
  }());
}

TEST_CASE("co_await handle: waiting costs no system call") {
  coring::run([]() -> task<> {
    coring::event go;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn(answer_when(go, 1));
      tg.spawn([&]() -> task<> {
        co_await settle();
        go.set();
      });
      const auto before = coring::stats().enters;
      int v = co_await h;
      CHECK(v == 1);
      CHECK(coring::stats().enters == before);
    });
  }());
}
