// The yield hand-off (loop::yield_turn) in a build where symmetric transfer is not a tail
// call: this file is compiled without optimisation and without sibling calls (see
// meson.build), as a user's debug build of a program that includes coring's headers is.
// Each hand-off then nests a few frames on the stack; the loop's floor must stop the chain
// long before the thread's stack runs out.
#include <catch2/catch.hpp>

#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <algorithm>
#include <cstdint>

namespace {

// The lowest stack address a yielder ran at.
std::uintptr_t lowest = UINTPTR_MAX;

coring::task<> yielder(int yields) {
  for (int i = 0; i < yields; ++i) {
    // The resume function's own stack frame (a coroutine's locals live in its heap frame).
    lowest = std::min(lowest, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
    co_await coring::checkpoint();
  }
}

}  // namespace

TEST_CASE("fastpath: in a build without tail calls a turn of 100,000 yielding tasks keeps to a bounded stack") {
  const auto base = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  int finished = 0;
  coring::run([](int& finished) -> coring::task<> {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      for (int i = 0; i < 100'000; ++i) tg.spawn(yielder(3));
      co_return;
    });
    ++finished;
  }(finished));
  CHECK(finished == 1);
  // Unbounded, the chain would nest 100,000 resumes (several megabytes, past the end of a
  // thread's stack); the floor lets it take 16 KiB beyond the loop's own frames.
  REQUIRE(lowest < base);
  CHECK(base - lowest < 256 * 1024);
}
