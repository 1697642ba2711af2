// Demo 11 — a timeout per task: each item gets its own deadline; an item that takes too
// long gives an empty result instead of failing the group.
//
// Mirrors "TaskGroup with Timeout per Task" (seed: TaskGroup patterns):
//     async def fetch_with_timeout(item: dict) -> dict | None:
//         try:
//             async with asyncio.timeout(timeout_per_item):
//                 return await process_item(item)
//         except asyncio.TimeoutError:
//             return None
//     async with asyncio.TaskGroup() as tg:
//         tasks = [tg.create_task(fetch_with_timeout(item)) for item in items]
//     return [t.result() for t in tasks]
//
// coring::move_on_after(d, work) is the try/timeout/except-return-None block in one call:
// it returns std::optional, empty when its own deadline expired (an outside cancellation
// still propagates). The timeout per item is 30 ms.
//
// Run: build/demos/demo_per_task_timeout
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct item {
  std::string name;
  std::chrono::milliseconds work;
};

coring::task<std::string> process_item(item it) {
  co_await coring::sleep(it.work);
  co_return "processed " + it.name;
}

coring::task<std::optional<std::string>> fetch_with_timeout(item it, std::chrono::milliseconds timeout_per_item) {
  co_return co_await coring::move_on_after(timeout_per_item, process_item(it));
}

}  // namespace

coring::task<> demo_per_task_timeout() {
  const std::vector<item> items = {{"fast", 5ms}, {"stuck", 2000ms}, {"medium", 15ms}};
  std::vector<coring::task_handle<std::optional<std::string>>> tasks;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (const item& it : items) tasks.push_back(tg.spawn(fetch_with_timeout(it, 30ms), it.name));
    co_return;
  });
  for (auto& t : tasks) fmt::print("{}: {}\n", t.name(), t.result().value_or("None (timed out)"));
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_per_task_timeout()); }
#endif
