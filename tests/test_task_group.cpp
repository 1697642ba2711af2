#include <catch2/catch.hpp>

#include <coring/coring.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

namespace {

task<std::string> job(std::string name, std::chrono::milliseconds d) {
  co_await coring::sleep(d);
  co_return name + " done";
}

task<int> fail_after(std::chrono::milliseconds d, std::string msg) {
  co_await coring::sleep(d);
  throw std::runtime_error(msg);
}

struct log_t {
  std::vector<std::string> lines;
  void operator()(std::string s) { lines.push_back(std::move(s)); }
};

}  // namespace

TEST_CASE("task_group: results are readable after the group") {
  coring::run([]() -> task<> {
    coring::task_handle<std::string> a, b;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      a = tg.spawn(job("A", 4ms), "A");
      b = tg.spawn(job("B", 2ms), "B");
      co_return;
    });
    CHECK(a.done());
    CHECK(a.result() == "A done");
    CHECK(b.result() == "B done");
    CHECK(a.name() == "A");
    CHECK_FALSE(a.cancelled());
    CHECK(a.exception() == nullptr);
  }());
}

TEST_CASE("task_group: the group returns the body's value") {
  int v = coring::run([]() -> task<int> {
    co_return co_await coring::with_task_group([&](task_group& tg) -> task<int> {
      tg.spawn(coring::sleep(1ms));
      co_return 7;
    });
  }());
  CHECK(v == 7);
}

TEST_CASE("task_group: first failure cancels siblings and the body") {
  log_t log;
  coring::run([](log_t& log) -> task<> {
    coring::task_handle<std::string> slow;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        slow = tg.spawn([](log_t& log) -> task<std::string> {
          try {
            co_await coring::sleep(10s);
          } catch (const coring::cancelled&) {
            log("slow cancelled");
            throw;
          }
          co_return "never";
        }(log), "slow");
        tg.spawn(fail_after(1ms, "boom"), "bad");
        try {
          co_await coring::sleep(10s);
        } catch (const coring::cancelled&) {
          log("body cancelled");
          throw;
        }
      });
      FAIL("group did not throw");
    } catch (const coring::exception_group& eg) {
      log("group failed");
      REQUIRE(eg.size() == 1);
      CHECK(eg.entries()[0].task_name == "bad");
      CHECK_THROWS_WITH(std::rethrow_exception(eg.exceptions()[0]), "boom");
    }
    CHECK(slow.cancelled());
    CHECK_THROWS_AS(slow.result(), coring::cancelled);
  }(log));
  REQUIRE(log.lines.size() == 3);
  CHECK(log.lines.back() == "group failed");
}

TEST_CASE("task_group: errors are reported in completion order with the body's last") {
  coring::run([]() -> task<> {
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        // Both fail in the same loop turn, before the group can cancel either.
        tg.spawn([]() -> task<> { throw std::invalid_argument("first"); co_return; }(), "one");
        tg.spawn([]() -> task<> { throw std::out_of_range("second"); co_return; }(), "two");
        co_await coring::checkpoint();
        co_await coring::checkpoint();
      });
      FAIL("no throw");
    } catch (const coring::exception_group& eg) {
      REQUIRE(eg.size() == 2);
      CHECK(eg.entries()[0].task_name == "one");
      CHECK(eg.entries()[1].task_name == "two");
    }
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        tg.spawn(fail_after(1ms, "child"), "child");
        co_await coring::sleep(1s);  // cancelled by the child's failure
      });
    } catch (const coring::exception_group& eg) {
      CHECK(eg.size() == 1);
    }
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        tg.spawn([]() -> task<> {
          try {
            co_await coring::sleep(1s);
          } catch (const coring::cancelled&) {
          }
          throw std::runtime_error("cleanup failed");  // an error during cleanup is collected
        }(), "cleaner");
        co_await coring::checkpoint();
        throw std::logic_error("body");
      });
    } catch (const coring::exception_group& eg) {
      REQUIRE(eg.size() == 2);
      CHECK_THROWS_WITH(std::rethrow_exception(eg.exceptions()[0]), "cleanup failed");
      CHECK_THROWS_WITH(std::rethrow_exception(eg.exceptions()[1]), "body");
    }
  }());
}
