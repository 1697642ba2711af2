#include <catch2/catch.hpp>

#include <coring/blocking.hpp>
#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <stop_token>
#include <system_error>
#include <string>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

// Runs the same checks over both wake-up paths: forces `m` for one test case, then restores
// the default.
struct wakeup_mode {
  coring::detail::blocking_wakeup mode;
  explicit wakeup_mode(coring::detail::blocking_wakeup m) : mode(m) { coring::detail::force_blocking_wakeup(m); }
  ~wakeup_mode() { coring::detail::force_blocking_wakeup(coring::detail::blocking_wakeup::msg_ring); }
  const char* name() const { return mode == coring::detail::blocking_wakeup::msg_ring ? "msg_ring" : "eventfd"; }
};

coring::detail::blocking_wakeup pick_mode() {
  return GENERATE(coring::detail::blocking_wakeup::msg_ring, coring::detail::blocking_wakeup::eventfd);
}

}  // namespace

TEST_CASE("blocking: run_blocking runs fn on another thread and returns its value on the loop thread") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id worker;
    const std::string s = co_await coring::run_blocking([&] {
      worker = std::this_thread::get_id();
      return std::string("computed");
    });
    CHECK(s == "computed");
    CHECK(worker != loop_thread);
    CHECK(std::this_thread::get_id() == loop_thread);
    bool ran = false;
    co_await coring::run_blocking([&] { ran = true; });  // void
    CHECK(ran);
  }());
}

TEST_CASE("blocking: an exception thrown by fn reaches the caller") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    bool caught = false;
    try {
      co_await coring::run_blocking([]() -> int { throw std::runtime_error("from the pool"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "from the pool";
    }
    CHECK(caught);
  }());
}

TEST_CASE("blocking: many concurrent calls all complete") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    int sum = 0;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (int i = 1; i <= 64; ++i)
        tg.spawn([&sum, i]() -> coring::task<> {
          sum += co_await coring::run_blocking([i] {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            return i;
          });
        });
      co_return;
    });
    CHECK(sum == 64 * 65 / 2);
  }());
}

TEST_CASE("blocking: the loop waits in the kernel for the result instead of polling") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    const auto before = coring::stats();
    co_await coring::run_blocking([] { std::this_thread::sleep_for(30ms); });
    const auto after = coring::stats();
    // One enter that waits (plus at most one more for the eventfd read's submission).
    CHECK(after.enters - before.enters <= 2);
    CHECK(after.iterations - before.iterations <= 3);
  }());
}

TEST_CASE("blocking: a cancelled caller whose fn is running waits for fn to finish, then is cancelled") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    std::atomic<bool> started{false}, finished{false};
    bool timed_out = false;
    try {
      co_await coring::with_timeout(20ms, coring::run_blocking([&] {
        started = true;
        std::this_thread::sleep_for(200ms);
        finished = true;
        return 1;
      }));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    // Either fn ran, and the caller was resumed only after it returned, or (on a machine too
    // loaded to start it within 20 ms) it was withdrawn from the queue and never ran.
    CHECK(started.load() == finished.load());
  }());
}

namespace {

// Occupies every worker of the pool until released (or until a watchdog gives up, so that
// a broken build fails instead of hanging).
struct pool_blocker {
  std::atomic<bool> release{false};
  std::atomic<bool> watchdog_fired{false};
  std::thread watchdog;
  pool_blocker() {
    watchdog = std::thread([this] {
      for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(10ms);
      if (!release.exchange(true)) watchdog_fired = true;
    });
  }
  ~pool_blocker() {
    release = true;
    watchdog.join();
  }
  auto job() {
    return coring::run_blocking([this] {
      while (!release) std::this_thread::sleep_for(1ms);
    });
  }
};

}  // namespace

TEST_CASE("blocking: a cancelled call still queued behind busy workers never runs and its caller resumes at once") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    pool_blocker blocker;
    bool ran = false;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (unsigned i = 0; i < coring::blocking_threads(); ++i) tg.spawn(blocker.job());
      co_await coring::checkpoint();  // the blockers start and queue their jobs first
      // Queued behind the blockers: no worker can reach it until they are released.
      const bool finished = co_await coring::move_on_after(20ms, coring::run_blocking([&] { ran = true; }));
      CHECK(!finished);
      CHECK(!blocker.watchdog_fired.load());  // resumed without waiting for a worker
      blocker.release = true;
    });
    CHECK(!ran);
  }());
}

TEST_CASE("blocking: cancelling a running call signals the stop_token of an fn that takes one") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    std::atomic<bool> ran{false}, stopped{false};
    pool_blocker watchdog;  // gives up the wait if the token is never signalled
    const auto r = co_await coring::move_on_after(20ms, coring::run_blocking([&](std::stop_token st) {
      ran = true;
      while (!st.stop_requested() && !watchdog.release) std::this_thread::sleep_for(1ms);
      stopped = st.stop_requested();
      return 7;
    }));
    CHECK(!r);
    CHECK(ran.load() == stopped.load());  // if it ran, it was stopped through its token
    CHECK(!watchdog.watchdog_fired.load());
  }());
}

TEST_CASE("blocking: set_blocking_threads rejects 0 and absurd sizes") {
  CHECK_THROWS_AS(coring::set_blocking_threads(0), std::invalid_argument);
  CHECK_THROWS_AS(coring::set_blocking_threads(100000), std::invalid_argument);
  CHECK(coring::blocking_threads() >= 1);
}

// Run alone in a fresh process (meson test 'blocking_fd_limit'): the pool must not have
// started any worker yet.
TEST_CASE("blocking: at the descriptor limit run_blocking throws system_error and the process keeps running", "[.][fresh]") {
  coring::run([]() -> coring::task<> {
    if (coring::detail::probed_blocking_wakeup() != coring::detail::blocking_wakeup::msg_ring) {
      coring_test::skip("no IORING_OP_MSG_RING: pool workers need no ring of their own here");
      co_return;
    }
    rlimit saved{};
    ::getrlimit(RLIMIT_NOFILE, &saved);
    const int lowest_free = ::dup(0);
    ::close(lowest_free);
    rlimit none = saved;
    none.rlim_cur = static_cast<rlim_t>(lowest_free);  // no new descriptor can be made
    ::setrlimit(RLIMIT_NOFILE, &none);
    bool refused = false;
    try {
      co_await coring::run_blocking([] { return 1; });
    } catch (const std::system_error& e) {
      refused = std::string(e.what()).find("worker") != std::string::npos;
      INFO(e.what());
    }
    ::setrlimit(RLIMIT_NOFILE, &saved);
    CHECK(refused);
    const int v = co_await coring::run_blocking([] { return 2; });  // descriptors again: works
    CHECK(v == 2);
  }());
}

TEST_CASE("blocking: a task already cancelled never starts fn") {
  coring::run([]() -> coring::task<> {
    bool ran = false, was_cancelled = false;
    {
      coring::cancel_scope scope;
      scope.cancel();
      try {
        co_await coring::run_blocking([&] { ran = true; });
      } catch (const coring::cancelled&) {
        was_cancelled = true;
      }
    }
    CHECK(was_cancelled);
    CHECK(!ran);
  }());
}

TEST_CASE("blocking: the kernel supports the MSG_RING path on this machine") {
  // Not a requirement of the library (the eventfd path covers older kernels), but the
  // default should be the cheaper path wherever it exists: the probe itself, not a forced
  // mode, must find it.
  CHECK(coring::detail::probed_blocking_wakeup() == coring::detail::blocking_wakeup::msg_ring);
}
