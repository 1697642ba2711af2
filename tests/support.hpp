// Small helpers shared by the test programs (each test program includes this header once).
//
// Never write CHECK(co_await x) or REQUIRE(co_await x): Catch's macro repeats its argument
// in a `false && ...` loop condition, and g++ 12 miscompiles that never-evaluated co_await:
// the task waits forever (seen on a recv, and reproduced without Catch by a do/while whose
// condition is `false && co_await ...`). Await into a variable, then check it.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <coring/task.hpp>
#include <coring/time.hpp>

namespace coring_test {

// Lets every ready task run a few turns: the hand-offs of queue, semaphore and event all go
// through the ready queue, so a few checkpoints settle them without any timing.
inline coring::task<> settle(int turns = 4) {
  for (int i = 0; i < turns; ++i) co_await coring::checkpoint();
}

// Awaits `a` and returns the E it ended with, or std::nullopt when it finished (any other
// exception goes through). The test then checks the error outside the co_await: a co_await
// must not stand inside Catch's macros (g++ 12), and no test writes the try/catch again.
template <class E, class A>
coring::task<std::optional<E>> caught(A a) {
  std::optional<E> error;
  try {
    (void)co_await std::move(a);
  } catch (const E& e) {
    error.emplace(e);
  }
  co_return error;
}

// Waits until `pred()` holds, for things only the kernel decides the moment of (a CQE
// posted for a connection, a signal delivered): checks it, then sleeps 1 ms so the loop
// enters the kernel and reaps what it posted, and checks again. Bounded: after `limit` of
// real time it throws std::runtime_error naming `what`, so a broken behaviour fails the
// test with a reason instead of hanging it. Where a task can set an event, await that
// instead. `pred` is taken by value (a lazy task must not hold a reference to a temporary).
template <class Pred>
coring::task<> eventually(Pred pred, const char* what,
                          std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(std::string("eventually: still false after ") +
                               std::to_string(limit.count()) + " ms: " + what);
    co_await coring::sleep(std::chrono::milliseconds(1));
  }
}

// Records that the running test case cannot run here (says `why` on stderr); the test then
// returns. Defined in main.cpp, which makes the program exit 77 (meson: SKIP) when every
// test case that ran skipped, and fail when a skip would hide among passes. A test that may
// skip gets a hidden tag ("[.ipv6]") and its own meson test entry running only that tag.
void skip(const std::string& why);

// The number of file descriptors this process has open: a test compares it before and after
// to prove that nothing leaked.
inline std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A pipe whose ends close with the test: a read end nobody writes blocks until cancelled.
struct pipe_pair {
  int r = -1, w = -1;
  pipe_pair() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::system_error(errno, std::system_category(), "pipe");
    r = fds[0];
    w = fds[1];
  }
  ~pipe_pair() {
    ::close(r);
    ::close(w);
  }
};

}  // namespace coring_test
