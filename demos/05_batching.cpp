// Demo 5 — batching: process items in groups of 10, one task group per batch, so at most
// 10 run at once and each batch finishes before the next starts.
//
// Mirrors "Batching with TaskGroup" (seed: common TaskGroup patterns):
//     async def process_batch(items, batch_size=10):
//         results = []
//         for i in range(0, len(items), batch_size):
//             batch = items[i:i + batch_size]
//             async with asyncio.TaskGroup() as tg:
//                 tasks = [tg.create_task(process(item)) for item in batch]
//             results.extend(task.result() for task in tasks)
//         return results
//
// Run: build/demos/demo_batching
#include <coring/coring.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>
#include <span>
#include <vector>

using namespace std::chrono_literals;

namespace {

int running = 0, most_running = 0;  // to show the batch bound

coring::task<int> process(int item) {
  most_running = std::max(most_running, ++running);
  co_await coring::sleep(1ms);
  --running;
  co_return item * item;
}

coring::task<std::vector<int>> process_batch(std::span<const int> items, std::size_t batch_size = 10) {
  std::vector<int> results;
  for (std::size_t i = 0; i < items.size(); i += batch_size) {
    auto batch = items.subspan(i, std::min(batch_size, items.size() - i));
    std::vector<coring::task_handle<int>> tasks;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (int item : batch) tasks.push_back(tg.spawn(process(item)));
      co_return;
    });
    for (auto& task : tasks) results.push_back(task.result());
    fmt::print("batch of {} done, at most {} ran at once\n", batch.size(), std::exchange(most_running, 0));
  }
  co_return results;
}

}  // namespace

coring::task<> demo_batching() {
  std::vector<int> items(25);
  std::iota(items.begin(), items.end(), 0);
  std::vector<int> results = co_await process_batch(items);
  fmt::print("results: {}\n", results);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_batching()); }
#endif
