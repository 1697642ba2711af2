// Demo 4 — cancellation cleanup: a cancelled task awaits its cleanup, then lets the
// cancellation go on.
//
// Mirrors "Handling CancelledError" (seed: asyncio.TaskGroup lesson):
//     async def graceful_shutdown():
//         try:
//             while True:
//                 await asyncio.sleep(1)
//                 print("Working...")
//         except asyncio.CancelledError:
//             print("Cleaning up...")
//             await cleanup()
//             raise  # Re-raise to signal completion
//
// C++ forbids co_await inside a catch block, so the handler keeps the exception
// (std::current_exception()) and leaves; the cleanup is awaited after it, in
// coring::shield — in a cancelled scope every await would throw coring::cancelled again
// (cancellation is level-triggered), the shield holds that off — and then the
// cancellation is rethrown. Times are divided by 100.
//
// Run: build/demos/demo_cleanup
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <exception>

using namespace std::chrono_literals;

namespace {

coring::task<> cleanup() {
  co_await coring::sleep(5ms);  // say, flush a buffer and close a connection
  fmt::print("Cleanup done (it awaited while its task was cancelled)\n");
}

coring::task<> graceful_shutdown() {
  std::exception_ptr cancelled;
  try {
    while (true) {
      co_await coring::sleep(10ms);
      fmt::print("Working...\n");
    }
  } catch (const coring::cancelled&) {
    fmt::print("Cleaning up...\n");
    cancelled = std::current_exception();
  }
  co_await coring::shield(cleanup());
  std::rethrow_exception(cancelled);  // Re-raise to signal completion
}

}  // namespace

coring::task<> demo_cleanup() {
  coring::task_handle<void> worker;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    worker = tg.spawn(graceful_shutdown(), "worker");
    co_await coring::sleep(35ms);
    fmt::print("Cancelling the worker\n");
    worker.cancel();
  });
  fmt::print("Group left; worker.cancelled() = {}\n", worker.cancelled());
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_cleanup()); }
#endif
