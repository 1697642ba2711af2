#include <catch2/catch.hpp>

#include <coring/coring.hpp>

#include <string>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::caught;

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
    const auto eg = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& tg) -> task<> {
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
    }));
    REQUIRE(eg.has_value());
    log("group failed");
    REQUIRE(eg->size() == 1);
    CHECK(eg->entries()[0].task_name == "bad");
    CHECK_THROWS_WITH(std::rethrow_exception(eg->exceptions()[0]), "boom");
    CHECK(slow.cancelled());
    CHECK_THROWS_AS(slow.result(), coring::cancelled);
  }(log));
  REQUIRE(log.lines.size() == 3);
  CHECK(log.lines.back() == "group failed");
}

TEST_CASE("task_group: errors are reported in completion order with the body's last") {
  coring::run([]() -> task<> {
    const auto eg = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& tg) -> task<> {
      // Both fail in the same loop turn, before the group can cancel either.
      tg.spawn([]() -> task<> { throw std::invalid_argument("first"); co_return; }(), "one");
      tg.spawn([]() -> task<> { throw std::out_of_range("second"); co_return; }(), "two");
      co_await coring::checkpoint();
      co_await coring::checkpoint();
    }));
    REQUIRE(eg.has_value());
    REQUIRE(eg->size() == 2);
    CHECK(eg->entries()[0].task_name == "one");
    CHECK(eg->entries()[1].task_name == "two");
    const auto child = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn(fail_after(1ms, "child"), "child");
      co_await coring::sleep(1s);  // cancelled by the child's failure
    }));
    REQUIRE(child.has_value());  // the group throws the child's failure
    CHECK(child->size() == 1);
    const auto cleanup = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([]() -> task<> {
        try {
          co_await coring::sleep(1s);
        } catch (const coring::cancelled&) {
        }
        throw std::runtime_error("cleanup failed");  // an error during cleanup is collected
      }(), "cleaner");
      co_await coring::checkpoint();
      throw std::logic_error("body");
    }));
    REQUIRE(cleanup.has_value());  // the group throws the body's and the cleaner's errors
    REQUIRE(cleanup->size() == 2);
    CHECK_THROWS_WITH(std::rethrow_exception(cleanup->exceptions()[0]), "cleanup failed");
    CHECK_THROWS_WITH(std::rethrow_exception(cleanup->exceptions()[1]), "body");
  }());
}

TEST_CASE("task_group: a cancelled child is not a failure") {
  coring::run([]() -> task<> {
    coring::task_handle<std::string> slow, fast;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      slow = tg.spawn(job("slow", 10000ms), "slow");
      fast = tg.spawn(job("fast", 1ms), "fast");
      co_await coring::sleep(2ms);
      slow.cancel();
    });
    CHECK(slow.cancelled());
    CHECK(slow.exception() == nullptr);
    CHECK(fast.result() == "fast done");
  }());
}

TEST_CASE("task_group: spawning on a finished group throws and never starts the task") {
  coring::run([]() -> task<> {
    std::optional<task_group> kept;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      kept.emplace(tg);
      co_return;
    });
    bool started = false;
    auto t = [](bool& started) -> task<> {
      started = true;
      co_return;
    };
    CHECK_THROWS_AS(kept->spawn(t(started)), std::logic_error);
    co_await coring::sleep(1ms);
    CHECK_FALSE(started);
  }());
}

TEST_CASE("task_group: spawning on a group that is cancelling after a failure throws") {
  coring::run([]() -> task<> {
    bool refused = false, started = false;
    const auto eg = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn(fail_after(0ms, "boom"), "bad");
      try {
        co_await coring::sleep(1s);
      } catch (const coring::cancelled&) {
      }
      try {
        tg.spawn([&]() -> task<> {
          started = true;
          co_return;
        });
      } catch (const std::logic_error&) {
        refused = true;
      }
    }));
    REQUIRE(eg.has_value());  // the group throws the child's failure
    CHECK(refused);
    CHECK_FALSE(started);
  }());
}

TEST_CASE("task_group: a child may spawn a sibling while the group is waiting") {
  coring::run([]() -> task<> {
    std::vector<std::string> order;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&order, tg]() mutable -> task<> {
        co_await coring::sleep(2ms);  // the body has finished and the group waits by now
        order.push_back("parent");
        tg.spawn([&order]() -> task<> {
          co_await coring::sleep(2ms);
          order.push_back("sibling");
        });
      });
      co_return;
    });
    CHECK(order == std::vector<std::string>{"parent", "sibling"});
  }());
}

TEST_CASE("task_group: a spawned child is registered before it first runs") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      bool ran = false;
      auto h = tg.spawn([&]() -> task<> {
        ran = true;
        co_return;
      }, "early");
      CHECK(tg.size() == 1);
      CHECK_FALSE(ran);
      CHECK_FALSE(h.done());
      CHECK(coring::dump_tasks().find("early") != std::string::npos);
      co_await coring::checkpoint();
      CHECK(ran);
    });
  }());
}

TEST_CASE("task_group: outside cancellation propagates as cancellation even when children failed") {
  coring::run([]() -> task<> {
    bool saw_cancelled = false, saw_group = false;
    co_await coring::move_on_after(3ms, [&]() -> task<> {
      try {
        co_await coring::with_task_group([&](task_group& tg) -> task<> {
          tg.spawn([]() -> task<> {
            try {
              co_await coring::sleep(1s);
            } catch (const coring::cancelled&) {
            }
            throw std::runtime_error("failed while being cancelled");
          });
          co_await coring::sleep(1s);
        });
      } catch (const coring::cancelled&) {
        saw_cancelled = true;
        throw;
      } catch (const coring::exception_group&) {
        saw_group = true;
      }
    }());
    CHECK(saw_cancelled);
    CHECK_FALSE(saw_group);
  }());
}

TEST_CASE("task_group: tg.cancel() ends the group quietly") {
  coring::run([]() -> task<> {
    coring::task_handle<std::string> h;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      h = tg.spawn(job("forever", 100000ms));
      co_await coring::sleep(1ms);
      tg.cancel();
      co_await coring::sleep(1s);  // cancelled too: the group swallows its own cancellation
    });
    CHECK(h.cancelled());
  }());
}

TEST_CASE("task_group: nested groups nest in the exception tree") {
  coring::run([]() -> task<> {
    const auto eg = co_await caught<coring::exception_group>(coring::with_task_group([&](task_group& outer) -> task<> {
      outer.spawn(coring::with_task_group([](task_group& inner) -> task<> {
        inner.spawn(fail_after(0ms, "deep"), "leaf");
        co_return;
      }), "inner-group");
      co_return;
    }));
    REQUIRE(eg.has_value());
    REQUIRE(eg->size() == 1);
    CHECK(eg->entries()[0].task_name == "inner-group");
    const coring::exception_group* inner = coring::exception_group::as_group(eg->exceptions()[0]);
    REQUIRE(inner != nullptr);
    REQUIRE(inner->size() == 1);
    CHECK(inner->entries()[0].task_name == "leaf");
    const std::string tree = fmt::format("{}", *eg);
    CHECK(tree.find("inner-group") != std::string::npos);
    CHECK(tree.find("std::runtime_error: deep") != std::string::npos);
  }());
}

TEST_CASE("task_group: a supervisor lets siblings finish and reports all errors at exit") {
  coring::run([]() -> task<> {
    coring::task_handle<std::string> ok;
    const auto eg = co_await caught<coring::exception_group>(coring::with_supervisor([&](task_group& tg) -> task<> {
      tg.spawn(fail_after(1ms, "a"), "a");
      ok = tg.spawn(job("ok", 5ms), "ok");
      tg.spawn(fail_after(2ms, "b"), "b");
      co_return;
    }));
    REQUIRE(eg.has_value());
    REQUIRE(eg->size() == 2);
    CHECK(eg->entries()[0].task_name == "a");
    CHECK(eg->entries()[1].task_name == "b");
    CHECK(ok.result() == "ok done");
  }());
}

TEST_CASE("task_group: handle results before the task finished is a logic error") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn(job("x", 1ms));
      CHECK_THROWS_AS(h.result(), std::logic_error);
      CHECK_THROWS_AS(h.exception(), std::logic_error);
      co_return;
    });
  }());
}

TEST_CASE("task_group: dump_tasks, called from a child, lists the whole tree with children in the order spawned") {
  coring::run([]() -> task<> {
    std::string dump;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      // "first" waits inside a timeout's scope, nested in the group's: the group finds its
      // children through the scope tree, and lists them as spawned.
      tg.spawn(coring::with_timeout(10s, coring::sleep(10s)), "first");
      tg.spawn([&]() -> task<> {
        co_await coring::checkpoint();
        dump = coring::dump_tasks();  // from a child: the dump starts at the root task
        tg.cancel();
      }, "second");
      co_return;
    });
    const auto main_at = dump.find("main");
    const auto first_at = dump.find("first");
    const auto second_at = dump.find("second");
    CHECK(main_at == 0);
    CHECK(dump.find("task group: 2 running") != std::string::npos);
    REQUIRE(first_at != std::string::npos);
    REQUIRE(second_at != std::string::npos);
    CHECK(first_at < second_at);
    CHECK(dump.find("second #3: running") != std::string::npos);
  }());
}

TEST_CASE("task_group: dump_tasks shows names, groups and what each task waits on") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn(coring::sleep(50ms), "sleeper");
      co_await coring::checkpoint();
      const std::string dump = coring::dump_tasks();
      CHECK(dump.find("main") != std::string::npos);
      CHECK(dump.find("task group: 1 running") != std::string::npos);
      CHECK(dump.find("sleeper") != std::string::npos);
      CHECK(dump.find("waiting on sleep") != std::string::npos);
      tg.cancel();
    });
  }());
}
