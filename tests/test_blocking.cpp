#include <catch2/catch.hpp>

#include <coring/blocking.hpp>
#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

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

TEST_CASE("blocking: a cancelled caller waits for fn to finish, then is cancelled") {
  wakeup_mode wm(pick_mode());
  INFO(wm.name());
  coring::run([]() -> coring::task<> {
    std::atomic<bool> finished{false};
    bool timed_out = false;
    try {
      co_await coring::with_timeout(2ms, coring::run_blocking([&] {
        std::this_thread::sleep_for(100ms);
        finished = true;
        return 1;
      }));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(finished.load());  // the caller was resumed only after fn returned
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
  // default should be the cheaper path wherever it exists.
  coring::detail::force_blocking_wakeup(coring::detail::blocking_wakeup::msg_ring);
  CHECK(coring::detail::blocking_wakeup_mode() == coring::detail::blocking_wakeup::msg_ring);
}
