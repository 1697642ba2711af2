#include <catch2/catch.hpp>

#include <coring/coring.hpp>
#include <coring/detail/io_op.hpp>
#include <coring/detail/testing.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

#include "support.hpp"

namespace {

using coring_test::pipe_pair;

struct fd_pair {
  int r = -1, w = -1;
  fd_pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~fd_pair() {
    ::close(r);
    ::close(w);
  }
};


task<std::size_t> read_into(int fd, char* buf, unsigned n) { co_return co_await coring::detail::read_op(fd, buf, n); }

// Tests of deadlines run on virtual time: they are exact and take no real time.
constexpr coring::runtime_options virtual_time{.virtual_time = true};

}  // namespace

TEST_CASE("cancel: with_timeout on a task throws timeout_error") {
  coring::run([]() -> task<> {
    const auto t0 = coring::clock::now();
    REQUIRE_THROWS_AS(co_await coring::with_timeout(5ms, coring::sleep(1s)), coring::timeout_error);
    CHECK(coring::clock::now() - t0 == 5ms);
  }(), virtual_time);
}

TEST_CASE("cancel: negative durations are rejected and zero expires at the first suspension point") {
  coring::run([]() -> task<> {
    CHECK_THROWS_AS(coring::sleep(-1ms), std::invalid_argument);
    CHECK_THROWS_AS(coring::with_timeout(-1ms, coring::checkpoint()), std::invalid_argument);
    CHECK_THROWS_AS(coring::move_on_after(-5s, coring::checkpoint()), std::invalid_argument);
    CHECK_THROWS_AS(co_await coring::with_timeout(0ms, coring::checkpoint()), coring::timeout_error);
    bool finished = co_await coring::move_on_after(0ms, coring::sleep(1s));
    CHECK_FALSE(finished);
    // No suspension point inside: the result is ready and wins over the expired deadline.
    int v = co_await coring::with_timeout(0ms, []() -> task<int> { co_return 5; }());
    CHECK(v == 5);
  }(), virtual_time);
}

TEST_CASE("cancel: move_on_after returns an empty optional on expiry and the value otherwise") {
  coring::run([]() -> task<> {
    auto slow = []() -> task<int> {
      co_await coring::sleep(1s);
      co_return 1;
    };
    auto fast = []() -> task<int> {
      co_await coring::sleep(1ms);
      co_return 2;
    };
    std::optional<int> a = co_await coring::move_on_after(5ms, slow());
    std::optional<int> b = co_await coring::move_on_after(1s, fast());
    CHECK_FALSE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(*b == 2);
  }(), virtual_time);
}

TEST_CASE("cancel: only the scope that expired converts the cancellation") {
  coring::run([]() -> task<> {
    // Inner deadline is later than the outer one: the outer scope's timeout, not the inner.
    bool inner_saw_timeout = false;
    auto outer = co_await coring::move_on_after(5ms, [&]() -> task<> {
      try {
        co_await coring::with_timeout(1s, coring::sleep(10s));
      } catch (const coring::timeout_error&) {
        inner_saw_timeout = true;
      }
    }());
    CHECK_FALSE(outer);
    CHECK_FALSE(inner_saw_timeout);
    // Inner deadline first: the inner converts, the outer sees a normal exception.
    auto r = co_await coring::move_on_after(1s, [&]() -> task<int> {
      try {
        co_await coring::with_timeout(2ms, coring::sleep(10s));
      } catch (const coring::timeout_error&) {
        co_return 1;
      }
      co_return 0;
    }());
    REQUIRE(r);
    CHECK(*r == 1);
  }(), virtual_time);
}

TEST_CASE("cancel: an outside cancel racing the expiry stays a cancellation") {
  coring::run([]() -> task<> {
    bool got_cancelled = false, got_timeout = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {  // a callable: spawn keeps its captures alive
        try {
          co_await coring::with_timeout(3ms, coring::sleep(10s));
        } catch (const coring::timeout_error&) {
          got_timeout = true;
        } catch (const coring::cancelled&) {
          got_cancelled = true;
          throw;
        }
      });
      // Both wake at the same virtual instant, this sleep first (it was armed before the
      // child's deadline): the deadline has fired and the group is cancelled before the
      // child runs again.
      co_await coring::sleep(3ms);
      tg.cancel();
    });
    CHECK(got_cancelled);
    CHECK_FALSE(got_timeout);
  }(), virtual_time);
}

TEST_CASE("cancel: cancellation is level-triggered until the scope is left") {
  coring::run([]() -> task<> {
    int thrown = 0;
    {
      coring::cancel_scope scope;
      scope.cancel();
      for (int i = 0; i < 3; ++i) {
        try {
          co_await coring::checkpoint();
        } catch (const coring::cancelled&) {
          ++thrown;
        }
      }
      CHECK(scope.owns_cancellation());
    }
    CHECK(thrown == 3);
    co_await coring::checkpoint();  // outside the scope: no throw
  }());
}

TEST_CASE("cancel: a shield lets cleanup await after cancellation, then cancellation resumes") {
  std::vector<std::string> log;
  coring::run([](std::vector<std::string>& log) -> task<> {
    co_await coring::move_on_after(2ms, [&]() -> task<> {
      try {
        co_await coring::sleep(10s);
      } catch (const coring::cancelled&) {
        log.push_back("cancelled");
        throw;
      }
    }());
    bool completed = co_await coring::move_on_after(2ms, [&]() -> task<> {
      std::exception_ptr err;
      try {
        co_await coring::sleep(10s);
      } catch (...) {
        err = std::current_exception();  // C++ forbids co_await in a handler: leave it first
      }
      if (err) {
        co_await coring::shield(coring::sleep(3ms));  // would throw if not shielded
        log.push_back("cleanup done");
        try {
          co_await coring::checkpoint();
        } catch (const coring::cancelled&) {
          log.push_back("still cancelled after shield");
        }
        std::rethrow_exception(err);
      }
    }());
    CHECK_FALSE(completed);
  }(log), virtual_time);
  CHECK(log == std::vector<std::string>{"cancelled", "cleanup done", "still cancelled after shield"});
}

TEST_CASE("cancel: a timeout around a task group cancels every child in the kernel") {
  pipe_pair p1, p2, p3;
  coring::run([](int a, int b, int c) -> task<> {
    auto before = coring::stats();
    bool timed_out = false;
    try {
      co_await coring::with_timeout(5ms, coring::with_task_group([&](task_group& tg) -> task<> {
        for (int fd : {a, b, c}) {
          tg.spawn([](int fd) -> task<> {
            char buf[16];
            co_await coring::detail::read_op(fd, buf, sizeof buf);  // no writer: blocks forever
          }(fd));
        }
        co_return;
      }));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    auto after = coring::stats();
    // Three reads and three ASYNC_CANCELs, each answered by a CQE.
    CHECK(after.sqes - before.sqes == 6);
    CHECK(after.cqes - before.cqes == 6);
  }(p1.r, p2.r, p3.r), virtual_time);
}

TEST_CASE("cancel: the public read_some on a pipe with no writer is cancelled by a timeout in the kernel") {
  pipe_pair p;
  coring::run([](int rfd, int wfd) -> task<> {
    char buf[8];
    auto s0 = coring::stats();
    CHECK_THROWS_AS(co_await coring::with_timeout(3ms, coring::read_some(rfd, buf)), coring::timeout_error);
    CHECK(coring::stats().sqes - s0.sqes == 2);  // the read and its linked timeout
    co_await coring::write_some(wfd, "x");       // the pipe still works afterwards
  }(p.r, p.w));
  char c = 0;
  REQUIRE(::read(p.r, &c, 1) == 1);
  CHECK(c == 'x');
}

TEST_CASE("cancel: with_timeout on a single read adds one SQE and no io_uring_enter") {
  fd_pair s;
  REQUIRE(::write(s.w, "hello", 5) == 5);
  coring::run([](int fd) -> task<> {
    char buf[16];
    auto s0 = coring::stats();
    std::size_t n1 = co_await coring::detail::read_op(fd, buf, 1);
    auto s1 = coring::stats();
    std::size_t n2 = co_await coring::with_timeout(1s, coring::detail::read_op(fd, buf, 1));
    auto s2 = coring::stats();
    CHECK(n1 == 1);
    CHECK(n2 == 1);
    CHECK(s1.enters - s0.enters == s2.enters - s1.enters);
    CHECK((s2.sqes - s1.sqes) - (s1.sqes - s0.sqes) == 1);
  }(s.r));
}

TEST_CASE("cancel: with_timeout on a blocked read throws timeout_error via the linked timeout") {
  fd_pair s;
  coring::run([](int fd) -> task<> {
    char buf[16];
    auto s0 = coring::stats();
    CHECK_THROWS_AS(co_await coring::with_timeout(3ms, coring::detail::read_op(fd, buf, sizeof buf)),
                    coring::timeout_error);
    auto s1 = coring::stats();
    CHECK(s1.sqes - s0.sqes == 2);  // the read and its LINK_TIMEOUT, no ASYNC_CANCEL
    CHECK(s1.cqes - s0.cqes == 2);
  }(s.r));
}

TEST_CASE("cancel: a splice blocked on a full socket is cut by a cancel scope and by with_timeout") {
  // The kernel runs a splice in an io-wq worker. Cancelled there while it has moved nothing,
  // it completes with ERESTARTSYS (512), once reported as "splice fd 5: Unknown error 512";
  // and a LINK_TIMEOUT linked to it never fires, so with_timeout once waited forever.
  fd_pair s;
  const int small = 4096;
  REQUIRE(::setsockopt(s.w, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  const std::string junk(4096, 'x');
  while (::send(s.w, junk.data(), junk.size(), MSG_DONTWAIT) > 0) {
  }  // nobody reads s.r: the socket stays full
  pipe_pair p;
  REQUIRE(::write(p.w, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
  coring::run([](int pipe_r, int sock) -> task<> {
    const auto into_socket = [=] { return coring::splice(pipe_r, -1, sock, -1, 4096); };
    auto moved = co_await coring::move_on_after(20ms, into_socket());
    CHECK_FALSE(moved.has_value());
    // The outer bound ends the test if with_timeout's own deadline never comes.
    bool timed_out = false;
    co_await coring::move_on_after(5s, [&]() -> task<> {
      try {
        co_await coring::with_timeout(20ms, into_socket());
      } catch (const coring::timeout_error&) {
        timed_out = true;
      }
    }());
    CHECK(timed_out);
  }(p.r, s.w));
}

namespace {
// A child reads from `rfd` while the body writes to `wfd` and cancels the group; `enter_between`
// lets the loop collect the read's completion before the cancel is issued.
struct race_result {
  char buf[16] = {};
  std::size_t got = 0;
  bool cancelled_later = false;
};
task<> race(int rfd, int wfd, bool enter_between, race_result& r) {
  co_await coring::with_task_group([&](task_group& tg) -> task<> {
    tg.spawn([](int fd, race_result& r) -> task<> {
      r.got = co_await read_into(fd, r.buf, 15);
      try {
        co_await coring::checkpoint();
      } catch (const coring::cancelled&) {
        r.cancelled_later = true;
        throw;
      }
    }(rfd, r));
    co_await coring::checkpoint();  // the read is submitted at the end of this turn
    co_await coring::checkpoint();
    REQUIRE(::write(wfd, "payload", 7) == 7);
    if (enter_between) co_await coring::checkpoint();  // the loop enters and reaps the read
    tg.cancel();
    co_return;
  });
}
}  // namespace

TEST_CASE("cancel: a read that completed before the cancel took hold keeps its data") {
  fd_pair s;
  race_result r;
  coring::run(race(s.r, s.w, true, r));
  CHECK(r.got == 7);
  CHECK(std::string(r.buf) == "payload");
  CHECK(r.cancelled_later);  // the cancellation is raised at the next suspension point
}

TEST_CASE("cancel: a cancel racing data arrival in the kernel loses no bytes") {
  fd_pair s;
  race_result r;
  coring::run(race(s.r, s.w, false, r));
  if (r.got == 0) {
    // The ASYNC_CANCEL won: the read never consumed the bytes, so they are still there.
    char again[16] = {};
    REQUIRE(::read(s.r, again, sizeof again) == 7);
    CHECK(std::string(again) == "payload");
  } else {
    CHECK(std::string(r.buf) == "payload");
    CHECK(r.cancelled_later);
  }
}

TEST_CASE("cancel: destroying a suspended task tree frees every frame") {
  pipe_pair p;
  const auto frames_before = coring::stats().frames;
  {
    coring::runtime rt;
    // The main task waits forever on a group whose children wait on a pipe, a sleep and a
    // grandchild group; the runtime finds the deadlock only if nothing is in flight, so
    // instead stop it with an exception from a sibling after everything is suspended.
    auto tree = [](int fd) -> task<> {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        tg.spawn([](int fd) -> task<> {
          char buf[8];
          co_await coring::detail::read_op(fd, buf, sizeof buf);
        }(fd));
        tg.spawn(coring::sleep(10s));
        // Waits in a timeout's scope, below the group's: the teardown finds it there too.
        tg.spawn(coring::with_timeout(10s, coring::sleep(10s)));
        tg.spawn(coring::with_task_group([](task_group& inner) -> task<> {
          inner.spawn(coring::sleep(10s));
          co_await coring::sleep(10s);
        }));
        co_return;
      });
    };
    auto t = tree(p.r);
    // Start it by hand and abandon it once it is suspended.
    coring::detail::task_node node;
    node.set_name("abandoned");
    coring::detail::testing::access::start_detached(rt, node, t.handle());
    bool stop = false;
    CHECK_THROWS_AS(rt.run([](bool& stop) -> task<> {
      for (int i = 0; i < 5; ++i) co_await coring::checkpoint();
      stop = true;
      throw std::runtime_error("abandon");
    }(stop)), std::runtime_error);
    CHECK(stop);
    CHECK(coring::stats().frames > frames_before);
    t = task<>{};  // destroys the suspended tree: cancels the read in the kernel, waits for it
    coring::detail::testing::access::forget_detached(rt, node);
  }
  CHECK(coring::stats().frames == frames_before);
}

TEST_CASE("cancel: 10,000 tasks sleeping the same 20 ms cost at most 10 io_uring_enter calls") {
  const auto before = coring::stats();
  int done = 0;
  coring::run([](int& done) -> task<> {
    const auto t0 = coring::clock::now();
    const auto timers0 = coring::stats().timers;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 10000; ++i)
        tg.spawn([](int& done) -> task<> {
          co_await coring::sleep(20ms);
          ++done;
        }(done));
      co_return;
    });
    // Under virtual time all 10,000 share one deadline: one jump fires them all.
    CHECK(coring::clock::now() - t0 == 20ms);
    CHECK(coring::stats().timers - timers0 == 10000);
  }(done), virtual_time);
  const auto after = coring::stats();
  CHECK(done == 10000);
  CHECK(after.enters <= 10);
  (void)before;
}
