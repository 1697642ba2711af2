// Demo 17 — awaiting a task: wait for one child's result while the others go on.
//
// Mirrors `await task` inside a TaskGroup:
//     async with asyncio.TaskGroup() as tg:
//         user = tg.create_task(fetch_user(1))
//         feed = tg.create_task(fetch_feed(1))
//         print(f"hello {await user}")        # the feed is still loading
//         print(f"{len(await feed)} posts")
//         report = tg.create_task(build_report())
//         try:
//             await asyncio.wait_for(asyncio.shield(report), 0.005)
//         except TimeoutError:
//             print("report not ready yet; it keeps running")
//
// `co_await handle` returns the task's value or rethrows its error, and several tasks may
// await one handle. Unlike asyncio, giving up on the wait never cancels the task, so no
// asyncio.shield is needed: a timeout around the await only stops the waiting.
//
// Run: build/demos/demo_await_handle
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> fetch_user(int id) {
  co_await coring::sleep(2ms);
  co_return id == 1 ? "ann" : "bob";
}

coring::task<std::vector<std::string>> fetch_feed(int) {
  co_await coring::sleep(6ms);
  co_return std::vector<std::string>{"post 1", "post 2", "post 3"};
}

coring::task<int> build_report() {
  co_await coring::sleep(15ms);
  co_return 42;
}

coring::task<int> broken_lookup() {
  co_await coring::sleep(1ms);
  throw std::runtime_error("lookup: no such user");
}

}  // namespace

coring::task<> demo_await_handle() {
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto user = tg.spawn(fetch_user(1), "user");
    auto feed = tg.spawn(fetch_feed(1), "feed");
    std::string name = co_await user;
    fmt::print("hello {}\n", name);  // printed as soon as the user is in, the feed may still load
    auto posts = co_await feed;
    fmt::print("{} posts\n", posts.size());

    auto report = tg.spawn(build_report(), "report");
    auto early = co_await coring::move_on_after(5ms, report);
    if (!early) fmt::print("report not ready after 5 ms; still running: {}\n", !report.done());
    fmt::print("report: {}\n", co_await report);
  });

  // A failing task's error comes out of the await (and, unhandled, out of the group).
  try {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      auto lookup = tg.spawn(broken_lookup(), "lookup");
      try {
        co_await lookup;
      } catch (const std::runtime_error& e) {
        fmt::print("await raised: {}\n", e.what());
      }
    });
  } catch (const coring::exception_group& eg) {
    fmt::print("the group reports it too: {} error, from task {}\n", eg.size(), eg.entries()[0].task_name);
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_await_handle()); }
#endif
