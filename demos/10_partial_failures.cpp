// Demo 10 — partial failures: successes and failures collected apart.
//
// Mirrors "TaskGroup with Partial Failure Handling" (seed: TaskGroup patterns):
//     try:
//         async with asyncio.TaskGroup() as tg:
//             tasks = [(url, tg.create_task(fetch(url))) for url in urls]
//     except* Exception as eg:
//         for url, task in tasks:
//             if task.done():
//                 try: successes.append(task.result())
//                 except Exception: failures.append(url)
//             else:
//                 failures.append(url)
//     else:
//         successes = [t.result() for _, t in tasks]
//
// With a task group (the Python shape) the first failure cancels the fetches still
// running, so they land among the failures although they would have succeeded.
// coring::with_supervisor runs every child to its end — a failure cancels nobody — and
// reports all errors at exit: each URL is then a real success or a real failure. The
// fetch is simulated with sleeps.
//
// Run: build/demos/demo_partial_failures
#include <coring/coring.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> fetch(std::string url) {
  co_await coring::sleep(url.starts_with("slow") ? 20ms : url.starts_with("bad") ? 5ms : 1ms);
  if (url.starts_with("bad")) throw std::runtime_error("HTTP 500 from " + url);
  co_return "<" + url + ">";
}

coring::task<std::pair<std::vector<std::string>, std::vector<std::string>>> fetch_with_partial_failures(
    std::vector<std::string> urls, bool supervise) {
  std::vector<std::string> successes, failures;
  std::vector<std::pair<std::string, coring::task_handle<std::string>>> tasks;
  auto body = [&](coring::task_group& tg) -> coring::task<> {
    for (const auto& url : urls) tasks.emplace_back(url, tg.spawn(fetch(url), url));
    co_return;
  };
  coring::task<> group = supervise ? coring::with_supervisor(body) : coring::with_task_group(body);
  try {
    co_await std::move(group);  // (g++ 12 double-destroys a ?: temporary inside co_await)
  } catch (const coring::exception_group&) {
    // every error is also in its task's handle, read below
  }
  for (auto& [url, task] : tasks) {
    if (task.cancelled() || task.exception())
      failures.push_back(url);
    else
      successes.push_back(task.result());
  }
  co_return std::pair(successes, failures);
}

}  // namespace

coring::task<> demo_partial_failures() {
  const std::vector<std::string> urls = {"a.example", "slow-b.example", "bad-c.example", "slow-d.example"};
  auto [ok1, failed1] = co_await fetch_with_partial_failures(urls, false);
  fmt::print("task group (Python shape): successes {} failures {}\n", ok1, failed1);
  auto [ok2, failed2] = co_await fetch_with_partial_failures(urls, true);
  fmt::print("with_supervisor:           successes {} failures {}\n", ok2, failed2);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_partial_failures()); }
#endif
