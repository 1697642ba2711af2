// tg.start (Trio's nursery.start): the caller gets the value the child reports with
// status.started() while the child keeps running in the group.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <optional>
#include <stdexcept>
#include <string>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring::task_status;
using coring_test::settle;

TEST_CASE("start: returns the started value while the child keeps running in the group") {
  coring::run([]() -> task<> {
    coring::event stop;
    bool child_ended = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      int v = co_await tg.start<int>([&](task_status<int>& status) -> task<> {
        co_await coring::checkpoint();
        status.started(8080);
        co_await stop.wait();
        child_ended = true;
      });
      CHECK(v == 8080);
      CHECK(tg.size() == 1);  // still running
      CHECK_FALSE(child_ended);
      stop.set();
    });
    CHECK(child_ended);
  }());
}

TEST_CASE("start: a listener reports its port, and the caller connects to it") {
  coring::run([]() -> task<> {
    std::string got;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto port = co_await tg.start<std::uint16_t>([](task_status<std::uint16_t>& status) -> task<> {
        auto l = coring::tcp_listener::bind("127.0.0.1", 0);
        status.started(l.local_port());
        auto conn = co_await l.accept();
        co_await conn.write_all("hi");
      }, "server");
      auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
      char buf[8];
      std::size_t n = co_await c.read_some(buf);
      got.assign(buf, n);
    });
    CHECK(got == "hi");
  }());
}

TEST_CASE("start: task_status<void> and started() without a value") {
  coring::run([]() -> task<> {
    bool ready = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      co_await tg.start([&](task_status<void>& status) -> task<> {
        ready = true;
        status.started();
        co_return;
      });
      CHECK(ready);
    });
  }());
}

TEST_CASE("start: a child failing before started() throws from start and fails the group once") {
  coring::run([]() -> task<> {
    bool start_threw = false;
    bool sibling_cancelled = false;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        tg.spawn([&]() -> task<> {
          try {
            co_await coring::sleep(10s);
          } catch (const coring::cancelled&) {
            sibling_cancelled = true;
            throw;
          }
        });
        try {
          co_await tg.start<int>([](task_status<int>&) -> task<> {
            co_await coring::checkpoint();
            throw std::runtime_error("bind failed");
          }, "server");
        } catch (const std::runtime_error& e) {
          start_threw = std::string(e.what()) == "bind failed";
        }
      });
      FAIL("the group should have failed");
    } catch (const coring::exception_group& eg) {
      REQUIRE(eg.size() == 1);
      CHECK(eg.entries()[0].task_name == "server");
    }
    CHECK(start_threw);
    CHECK(sibling_cancelled);  // the group's rules: a failure cancels the siblings
  }());
}

TEST_CASE("start: an uncaught failure before started() is reported once, under the child's name") {
  coring::run([]() -> task<> {
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        co_await tg.start<int>([](task_status<int>&) -> task<> {
          throw std::invalid_argument("no port");
          co_return;
        }, "server");
      });
      FAIL("the group should have failed");
    } catch (const coring::exception_group& eg) {
      REQUIRE(eg.size() == 1);  // raised by the child and again by the body: one entry
      CHECK(eg.entries()[0].task_name == "server");
    }
  }());
}

TEST_CASE("start: a child returning without started() makes start throw logic_error") {
  coring::run([]() -> task<> {
    bool logic = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      try {
        co_await tg.start<int>([](task_status<int>&) -> task<> { co_return; }, "lazy");
      } catch (const std::logic_error& e) {
        logic = std::string(e.what()).find("'lazy' ended without calling status.started()") != std::string::npos;
      }
    });
    CHECK(logic);
  }());
}

TEST_CASE("start: calling started() twice throws logic_error in the child") {
  coring::run([]() -> task<> {
    bool second_threw = false;
    int v = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      v = co_await tg.start<int>([&](task_status<int>& status) -> task<> {
        status.started(1);
        try {
          status.started(2);
        } catch (const std::logic_error&) {
          second_threw = true;
        }
        co_return;
      });
    });
    CHECK(v == 1);
    CHECK(second_threw);
  }());
}

TEST_CASE("start: a caller cancelled before started() cancels the child and returns after it ended") {
  coring::run([]() -> task<> {
    bool child_cleaned_up = false;
    bool cleanup_done_before_start_returned = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto r = co_await coring::move_on_after(5ms, tg.start<int>([&](task_status<int>&) -> task<> {
        try {
          co_await coring::sleep(10s);  // never ready
        } catch (const coring::cancelled&) {
          std::exception_ptr e = std::current_exception();
          child_cleaned_up = true;
          std::rethrow_exception(e);
        }
      }));
      cleanup_done_before_start_returned = child_cleaned_up;
      CHECK_FALSE(r.has_value());
      CHECK(tg.size() == 0);
    });
    CHECK(cleanup_done_before_start_returned);
  }());
}

TEST_CASE("start: a cancelled caller starts nothing") {
  coring::run([]() -> task<> {
    bool ran = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      coring::cancel_scope scope;
      scope.cancel();
      CHECK_THROWS_AS(co_await tg.start<int>([&](task_status<int>& s) -> task<> {
        ran = true;
        s.started(1);
        co_return;
      }), coring::cancelled);
      co_return;
    });
    CHECK_FALSE(ran);
  }());
}

TEST_CASE("start: a child cancelled by the group before started() makes start throw cancelled") {
  coring::run([]() -> task<> {
    bool cancelled = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto outer = tg;
      tg.spawn([&cancelled, outer]() mutable -> task<> {
        try {
          co_await outer.start<int>([](task_status<int>&) -> task<> { co_await coring::sleep(10s); });
        } catch (const coring::cancelled&) {
          cancelled = true;
          throw;
        }
      });
      co_await settle();
      tg.cancel();
      co_return;
    });
    CHECK(cancelled);
  }());
}

TEST_CASE("start: on a finished group throws logic_error and runs nothing") {
  coring::run([]() -> task<> {
    std::optional<task_group> kept;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      kept = tg;
      co_return;
    });
    bool ran = false;
    CHECK_THROWS_AS(co_await kept->start<int>([&](task_status<int>& s) -> task<> {
      ran = true;
      s.started(1);
      co_return;
    }), std::logic_error);
    CHECK_FALSE(ran);
  }());
}

TEST_CASE("start: a caller outside the group whose child is cancelled before started() gets cancelled") {
  coring::run([]() -> task<> {
    std::optional<task_group> inner;
    coring::event have_inner;
    bool caller_got_cancelled = false;
    bool caller_itself_cancelled = true;
    co_await coring::with_task_group([&](task_group& outer) -> task<> {
      outer.spawn([&]() -> task<> {
        co_await coring::with_task_group([&](task_group& g) -> task<> {
          inner = g;
          have_inner.set();
          co_await coring::sleep(10s);  // until the group is cancelled
        });
      });
      co_await have_inner.wait();
      outer.spawn([&]() -> task<> {
        co_await settle();
        inner->cancel();  // cancels the inner group's child, not the caller below
      });
      try {
        co_await inner->start<int>([](task_status<int>&) -> task<> { co_await coring::sleep(10s); });
      } catch (const coring::cancelled&) {
        caller_got_cancelled = true;
      }
      caller_itself_cancelled = coring::detail::this_task()->cancelled();
    });
    CHECK(caller_got_cancelled);
    CHECK_FALSE(caller_itself_cancelled);
  }());
}
