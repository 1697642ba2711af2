// Demo 2 — failure handling: one child fails, its siblings are cancelled (and may clean
// up), the group waits for them, then throws an exception_group handled per type.
//
// Mirrors "TaskGroup cancellation behavior" (seed: asyncio.TaskGroup lesson):
//     async def run_forever():
//         try:
//             while True: await asyncio.sleep(1)
//         except asyncio.CancelledError:
//             print("I was cancelled!")
//             raise
//     try:
//         async with asyncio.TaskGroup() as tg:
//             tg.create_task(fail_soon())
//             tg.create_task(run_forever())
//     except* ValueError:
//         print("Handled the failure")
//     # Output: I was cancelled!  Handled the failure
// and the "Error Handling" example:  except* ValueError as eg:
//                                        for exc in eg.exceptions: print(f"Caught: {exc}")
//
// coring::except<E>(fn) is `except* E`: fn gets each matching exception (or, taking a
// const exception_group&, the matching part once); what no clause matches is rethrown.
// std::invalid_argument plays ValueError.
//
// Run: build/demos/demo_failure
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <stdexcept>

using namespace std::chrono_literals;

namespace {

coring::task<> fail_soon() {
  co_await coring::sleep(10ms);
  throw std::invalid_argument("Task failed!");
}

coring::task<> run_forever() {
  try {
    for (;;) co_await coring::sleep(1s);
  } catch (const coring::cancelled&) {
    fmt::print("I was cancelled!\n");
    throw;
  }
}

coring::task<int> succeed() {
  co_await coring::sleep(20ms);
  co_return 1;
}

}  // namespace

coring::task<> demo_failure() {
  try {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      tg.spawn(fail_soon(), "fail_soon");
      tg.spawn(run_forever(), "run_forever");
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    eg.handle(coring::except<std::invalid_argument>([](const coring::exception_group&) {
      fmt::print("Handled the failure\n");
    }));
  }

  // The "Error Handling" example: the succeeding siblings are cancelled too.
  try {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      tg.spawn(succeed(), "succeed-1");
      tg.spawn(fail_soon(), "fail");
      tg.spawn(succeed(), "succeed-2");
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    eg.handle(coring::except<std::invalid_argument>([](const std::invalid_argument& exc) {
      fmt::print("Caught: {}\n", exc.what());
    }));
    fmt::print("{}\n", eg);  // the tree, like Python's ExceptionGroup traceback
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_failure()); }
#endif
