// Demo 8 — producer/consumer: one producer, a bounded queue (maxsize 100), 5 consumers,
// 1000 items. Twice: ending the consumers with sentinels, then with queue.shutdown().
//
// Mirrors "Producer-Consumer with TaskGroup" (seed: common TaskGroup patterns):
//     queue = asyncio.Queue(maxsize=100)
//     async def producer():
//         for i in range(1000):
//             await queue.put(i)
//         for _ in range(num_consumers):
//             await queue.put(None)          # Signal completion
//     async def consumer():
//         while True:
//             item = await queue.get()
//             if item is None:
//                 break
//             await process(item)
// The second version is Python 3.13's queue.shutdown(): consumers drain what is left,
// then get() raises QueueShutDown — no sentinel to count. The queue is pure user space:
// 1000 hand-offs cost no system call (see the tour's stats).
//
// Run: build/demos/demo_producer_consumer
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <optional>

namespace {

constexpr int num_consumers = 5;
long total = 0;
std::size_t peak = 0;  // the most items ever waiting in the queue

coring::task<> process(int item) {
  total += item;
  co_await coring::checkpoint();  // let the others run, as real work would
}

coring::task<> with_sentinels() {
  coring::queue<std::optional<int>> queue(100);

  auto producer = [&]() -> coring::task<> {
    for (int i = 0; i < 1000; ++i) {
      co_await queue.put(i);
      peak = std::max(peak, queue.size());
    }
    for (int c = 0; c < num_consumers; ++c) co_await queue.put(std::nullopt);  // Signal completion
  };
  auto consumer = [&]() -> coring::task<> {
    while (true) {
      std::optional<int> item = co_await queue.get();
      if (!item) break;
      co_await process(*item);
    }
  };

  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(producer, "producer");
    for (int c = 0; c < num_consumers; ++c) tg.spawn(consumer, fmt::format("consumer-{}", c));
    co_return;
  });
}

coring::task<> with_shutdown() {
  coring::queue<int> queue(100);

  auto producer = [&]() -> coring::task<> {
    for (int i = 0; i < 1000; ++i) co_await queue.put(i);
    queue.shutdown();  // consumers drain what is left, then get() throws queue_shut_down
  };
  auto consumer = [&]() -> coring::task<> {
    try {
      while (true) co_await process(co_await queue.get());
    } catch (const coring::queue_shut_down&) {
    }
  };

  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(producer, "producer");
    for (int c = 0; c < num_consumers; ++c) tg.spawn(consumer, fmt::format("consumer-{}", c));
    co_return;
  });
}

}  // namespace

coring::task<> demo_producer_consumer() {
  total = 0;
  co_await with_sentinels();
  fmt::print("sentinels: {} consumers processed items summing to {}, queue never above {}\n", num_consumers,
             total, peak);
  total = 0;
  co_await with_shutdown();
  fmt::print("shutdown(): {} consumers processed items summing to {}\n", num_consumers, total);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_producer_consumer()); }
#endif
