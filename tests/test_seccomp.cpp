// Failure modes a person must be able to act on: io_uring blocked by seccomp, a nested
// runtime, an un-joined cancel scope (fatal), and a deadlocked main task.
//
// The seccomp and fatal cases run in a forked child so the filter and the abort stay there;
// the parent reads what the child wrote through a pipe and checks how it ended.
#include <catch2/catch.hpp>

#include <seccomp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include "child_process.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

namespace {

using coring_test::child_result;
using coring_test::exit_skip;
using coring_test::run_in_child;
using coring_test::write_out;

// Makes io_uring_setup fail with EPERM in this process, like Docker's default profile.
// Returns false when seccomp itself is unavailable here.
bool block_io_uring_with_seccomp() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return false;
  bool ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

std::uint64_t frames_while_stuck = 0;

coring::task<int> innermost_forever() {
  frames_while_stuck = coring::stats().frames;
  // A wait nothing can ever end: no I/O, no timer, no other task.
  co_await std::suspend_always{};
  co_return 1;
}
coring::task<int> middle_forever() { co_return co_await innermost_forever() + 1; }

// Waits for `mine`'s partner before announcing itself: two of these wait for each other.
coring::task<> wait_then_set(coring::event& theirs, coring::event& mine) {
  co_await theirs.wait();
  mine.set();
}

coring::task<> two_tasks_waiting_for_each_other() {
  coring::event a_done, b_done;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(wait_then_set(b_done, a_done), "a");
    tg.spawn(wait_then_set(a_done, b_done), "b");
    co_await coring::sleep(1ms);  // a pending timer is not a deadlock: run must wait it out
    frames_while_stuck = coring::stats().frames;
  });
}

}  // namespace

TEST_CASE("seccomp: a blocked io_uring_setup gives a message saying why and what to change", "[.seccomp]") {
  const child_result r = run_in_child([] {
    if (!block_io_uring_with_seccomp()) {
      write_out("seccomp unavailable\n");
      ::_exit(exit_skip);
    }
    try {
      coring::runtime rt;
      write_out("runtime constructed despite the filter\n");
      ::_exit(1);
    } catch (const std::system_error& e) {
      write_out(std::string("errno=") + std::to_string(e.code().value()) + "\n" + e.what() + "\n");
      ::_exit(0);
    } catch (...) {
      write_out("an exception other than std::system_error\n");
      ::_exit(2);
    }
  });
  REQUIRE(WIFEXITED(r.status));
  if (WEXITSTATUS(r.status) == exit_skip) {
    coring_test::skip("cannot install a seccomp filter here: " + r.output);
    return;
  }
  INFO("child output: " << r.output);
  REQUIRE(WEXITSTATUS(r.status) == 0);
  // Shown on purpose: this is the message a person gets inside a locked-down container.
  std::printf("seccomp test: the runtime said:\n  %s", r.output.c_str());
  CHECK(contains(r.output, ("errno=" + std::to_string(EPERM) + "\n").c_str()));
  CHECK(contains(r.output, "io_uring is unavailable"));  // what
  CHECK(contains(r.output, "seccomp"));                  // why
  CHECK(contains(r.output, "io_uring_setup"));
  CHECK(contains(r.output, "to fix"));                   // what to change
  CHECK(contains(r.output, "allow"));
}

TEST_CASE("runtime: a second runtime on the same thread is refused with logic_error") {
  bool refused = false;
  std::string message;
  coring::run([](bool& refused_out, std::string& msg_out) -> coring::task<> {
    try {
      coring::runtime nested;
    } catch (const std::logic_error& e) {
      refused_out = true;
      msg_out = e.what();
    }
    co_await coring::checkpoint();
  }(refused, message));
  CHECK(refused);
  CHECK(contains(message, "already running on this thread"));
  // The outer runtime is intact and a new one can start once it is gone.
  CHECK(coring::run([]() -> coring::task<int> {
          co_await coring::checkpoint();
          co_return 7;
        }()) == 7);
}

TEST_CASE("runtime: coring::run nested inside a task is refused with logic_error") {
  int inner_ran = 0;
  coring::run([](int& ran) -> coring::task<> {
    auto inner = [](int& r) -> coring::task<> {
      ++r;
      co_return;
    };
    CHECK_THROWS_AS(coring::run(inner(ran)), std::logic_error);
    co_return;
  }(inner_ran));
  CHECK(inner_ran == 0);  // the refused task never started
}

TEST_CASE("fatal: destroying a cancel scope while a nested one is open aborts with a message") {
  const child_result r = run_in_child([] {
    coring::run([]() -> coring::task<> {
      auto outer = std::make_unique<coring::cancel_scope>();
      std::optional<coring::cancel_scope> inner;
      inner.emplace();
      outer.reset();  // out of order: `inner` is still inside it
      co_await coring::checkpoint();
    }());
    ::_exit(0);  // reached only if the misuse went unnoticed
  });
  INFO("child output: " << r.output);
  REQUIRE(WIFSIGNALED(r.status));
  CHECK(WTERMSIG(r.status) == SIGABRT);
  CHECK(contains(r.output, "coring: fatal"));
  CHECK(contains(r.output, "un-joined scope"));
}

TEST_CASE("runtime: a main task waiting on nothing wakeable throws a deadlock error and frees every frame") {
  const auto frames_before = coring::stats().frames;
  std::string message;
  try {
    (void)coring::run(middle_forever());
    FAIL("run returned although main can never finish");
  } catch (const std::logic_error& e) {
    message = e.what();
  }
  CHECK(contains(message, "deadlock"));
  CHECK(frames_while_stuck >= frames_before + 2);  // both frames of the chain were alive
  CHECK(coring::stats().frames == frames_before);
}

TEST_CASE("runtime: two tasks waiting on each other's event are reported as a deadlock and every frame is freed") {
  const auto frames_before = coring::stats().frames;
  frames_while_stuck = 0;
  std::string message;
  try {
    coring::run(two_tasks_waiting_for_each_other());
    FAIL("run returned although both children wait forever");
  } catch (const std::logic_error& e) {
    message = e.what();
  }
  CHECK(contains(message, "deadlock"));
  CHECK(frames_while_stuck > frames_before + 2);  // main, the group, the body, two children
  CHECK(coring::stats().frames == frames_before);
}
