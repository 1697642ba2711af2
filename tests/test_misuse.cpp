// Misuse that used to crash: each is a std::logic_error whose message says what to do, in
// every build (no assert).
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/queue.hpp>
#include <coring/runtime.hpp>
#include <coring/semaphore.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

// A coroutine type coring knows nothing of, run directly on this thread: no runtime drives
// what it awaits.
struct foreign {
  struct promise_type {
    foreign get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

template <class A>
foreign await_outside(A a, std::string& message) {
  try {
    co_await std::move(a);
    message = "no error";
  } catch (const std::logic_error& e) {
    message = e.what();
  }
}

// The message every one of these gets: it names the fix.
bool says_what_to_do(const std::string& m) { return m.find("only inside a coring::task run by coring::run") != std::string::npos; }

}  // namespace

TEST_CASE("misuse: awaiting coring operations in a coroutine no runtime drives throws logic_error") {
  std::string m;
  await_outside(coring::checkpoint(), m);
  CHECK(says_what_to_do(m));
  m.clear();
  await_outside(coring::sleep(1ms), m);
  CHECK(says_what_to_do(m));
  coring::queue<int> q;
  m.clear();
  await_outside(q.get(), m);
  CHECK(says_what_to_do(m));
  coring::semaphore sem(0);
  m.clear();
  await_outside(sem.acquire(), m);
  CHECK(says_what_to_do(m));
  coring::event ev;
  m.clear();
  await_outside(ev.wait(), m);
  CHECK(says_what_to_do(m));
  m.clear();
  await_outside(coring::with_timeout(1s, []() -> coring::task<> { co_await coring::checkpoint(); }()), m);
  CHECK(says_what_to_do(m));
  m.clear();
  await_outside(coring::with_task_group([](coring::task_group&) -> coring::task<> { co_return; }), m);
  CHECK(says_what_to_do(m));
}

TEST_CASE("misuse: awaiting a task twice throws logic_error") {
  coring::run([]() -> coring::task<> {
    auto t = []() -> coring::task<int> { co_return 1; }();
    const int first = co_await t;
    CHECK(first == 1);
    std::string m;
    try {
      (void)co_await t;
    } catch (const std::logic_error& e) {
      m = e.what();
    }
    CHECK(m.find("awaited twice") != std::string::npos);
  }());
}

TEST_CASE("misuse: awaiting an empty or moved-from task throws logic_error") {
  coring::run([]() -> coring::task<> {
    coring::task<int> empty;
    CHECK_THROWS_WITH(co_await empty, Catch::Contains("empty task"));
    auto t = []() -> coring::task<> { co_return; }();
    auto moved = std::move(t);
    CHECK_THROWS_WITH(co_await t, Catch::Contains("empty task"));
    co_await moved;
  }());
}

TEST_CASE("misuse: spawning an empty task throws logic_error and the group goes on") {
  coring::run([]() -> coring::task<> {
    bool other_ran = false;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      coring::task<> empty;
      CHECK_THROWS_WITH(tg.spawn(std::move(empty)), Catch::Contains("empty"));
      tg.spawn([&]() -> coring::task<> {
        other_ran = true;
        co_return;
      });
      co_return;
    });
    CHECK(other_ran);
  }());
}
