#include <catch2/catch.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/signal.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <stdexcept>

#include "support.hpp"

using namespace std::chrono_literals;

using coring_test::open_fds;

namespace {

bool is_blocked(int sig) {
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, nullptr, &cur);
  return sigismember(&cur, sig) == 1;
}

}  // namespace

TEST_CASE("signal: wait_for_signal returns a signal sent to the process, then restores the mask") {
  REQUIRE(!is_blocked(SIGUSR1));
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    int got = 0;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> { got = co_await coring::wait_for_signal({SIGUSR1, SIGUSR2}); }, "waiter");
      // The waiter blocks the signals before it reads its signalfd; a signal sent after
      // that is either read at once or found pending by the read.
      co_await coring_test::eventually([] { return is_blocked(SIGUSR1) && is_blocked(SIGUSR2); },
                                       "the waiter blocks SIGUSR1 and SIGUSR2");
      ::kill(::getpid(), SIGUSR2);
    });
    CHECK(got == SIGUSR2);
    CHECK(open_fds() == fds);
  }());
  CHECK(!is_blocked(SIGUSR1));
  CHECK(!is_blocked(SIGUSR2));
}

TEST_CASE("signal: a signal already pending is returned at once") {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::raise(SIGUSR1);  // pending, since blocked
  const int got = coring::run([]() -> coring::task<int> { co_return co_await coring::wait_for_signal({SIGUSR1}); }());
  CHECK(got == SIGUSR1);
  CHECK(is_blocked(SIGUSR1));  // blocked by the program before the wait: left blocked
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

TEST_CASE("signal: a cancelled wait closes its signalfd and restores the mask") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    auto r = co_await coring::move_on_after(3ms, coring::wait_for_signal({SIGUSR1}));
    CHECK(!r);
    CHECK(open_fds() == fds);
    CHECK(!is_blocked(SIGUSR1));
  }());
}

TEST_CASE("signal: two waits for the same signal keep it blocked until both end") {
  coring::run([]() -> coring::task<> {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      auto first = tg.spawn(coring::wait_for_signal({SIGUSR1}), "first");
      auto second = tg.spawn(coring::wait_for_signal({SIGUSR1}), "second");
      co_await coring_test::eventually([] { return is_blocked(SIGUSR1); }, "both waits block SIGUSR1");
      co_await coring_test::settle();  // the second has started too
      first.cancel();
      co_await coring_test::eventually([&] { return first.done(); }, "the cancelled wait ends");
      CHECK(first.cancelled());
      CHECK(is_blocked(SIGUSR1));  // the second wait still needs it
      ::kill(::getpid(), SIGUSR1);
      co_return;
    });
    CHECK(!is_blocked(SIGUSR1));
  }());
}

TEST_CASE("signal: bad signal lists are rejected with invalid_argument") {
  CHECK_THROWS_AS(coring::wait_for_signal({}), std::invalid_argument);
  CHECK_THROWS_AS(coring::wait_for_signal({SIGKILL}), std::invalid_argument);
  CHECK_THROWS_AS(coring::wait_for_signal({0}), std::invalid_argument);
  CHECK_THROWS_AS(coring::block_signals({1000}), std::invalid_argument);
}
