// Demo 1 — basic task group: start two tasks, leave the block, read their results.
//
// Mirrors taskgroup_basic.py:
//     async with asyncio.TaskGroup() as tg:
//         t1 = tg.create_task(job("A", 0.2))
//         t2 = tg.create_task(job("B", 0.1))
//     # task results are available after the block
//     print(t1.result())
//     print(t2.result())
//
// The group is left only when both jobs have finished, so the handles' results are ready.
// Times are divided by 10 so the demo runs in ~20 ms.
//
// Run: build/demos/demo_basic          (./run demo runs every demo as a tour)
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> job(std::string name, std::chrono::milliseconds delay) {
  co_await coring::sleep(delay);
  co_return name + " done";
}

}  // namespace

coring::task<> demo_basic() {
  coring::task_handle<std::string> t1, t2;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    t1 = tg.spawn(job("A", 20ms));
    t2 = tg.spawn(job("B", 10ms));
    co_return;
  });
  // task results are available after the block
  fmt::print("{}\n", t1.result());
  fmt::print("{}\n", t2.result());
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_basic()); }
#endif
