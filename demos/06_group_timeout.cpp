// Demo 6 — timeout over a whole task group: when the deadline passes, every task in the
// group is cancelled and the caller gets a timeout error.
//
// Mirrors "Timeout with TaskGroup" (seed: common TaskGroup patterns):
//     try:
//         async with asyncio.timeout(5.0):
//             async with asyncio.TaskGroup() as tg:
//                 tg.create_task(slow_operation())
//                 tg.create_task(another_operation())
//     except TimeoutError:
//         print("Operations timed out")
//         # All tasks automatically cancelled
//
// with_timeout over a task group is a cancel scope with a deadline (Trio's fail_after);
// only that scope turns its cancellation into coring::timeout_error. The deadline is
// 50 ms and the operations would take a second.
//
// Run: build/demos/demo_group_timeout
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<> operation(std::string name, std::chrono::milliseconds how_long) {
  try {
    co_await coring::sleep(how_long);
  } catch (const coring::cancelled&) {
    fmt::print("{} cancelled\n", name);
    throw;
  }
}

coring::task<> slow_operation() { return operation("slow_operation", 1000ms); }
coring::task<> another_operation() { return operation("another_operation", 800ms); }

}  // namespace

coring::task<> demo_group_timeout() {
  auto start = std::chrono::steady_clock::now();
  try {
    co_await coring::with_timeout(50ms, coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      tg.spawn(slow_operation());
      tg.spawn(another_operation());
      co_return;
    }));
  } catch (const coring::timeout_error&) {
    fmt::print("Operations timed out\n");  // All tasks automatically cancelled
  }
  auto waited = std::chrono::steady_clock::now() - start;
  fmt::print("waited less than the operations would take: {}\n", waited < 500ms);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_group_timeout()); }
#endif
