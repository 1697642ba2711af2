// Demo 12 — gather vs task group: gather returns the results in order and fails fast
// with the first error itself; gather_settled is gather(return_exceptions=True); a task
// group reports every error in an exception_group.
//
// Mirrors "When to Still Use gather" (seed: TaskGroup patterns):
//     results = await asyncio.gather(*tasks, return_exceptions=True)
//     successes = [r for r in results if not isinstance(r, Exception)]
//     failures = [r for r in results if isinstance(r, Exception)]
//
// Run: build/demos/demo_gather
#include <coring/coring.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coring::task<int> compute(int n) {
  co_await coring::sleep(std::chrono::milliseconds(n));
  if (n % 3 == 0) throw std::invalid_argument(fmt::format("{} is a multiple of 3", n));
  co_return n * 10;
}

}  // namespace

coring::task<> demo_gather() {
  // gather: all results, in order (asyncio.gather without return_exceptions)
  auto [a, b] = co_await coring::gather(compute(1), compute(2));
  fmt::print("gather: {} {}\n", a, b);

  // ...and it raises the first error itself, not wrapped
  try {
    co_await coring::gather(compute(1), compute(3), compute(6));
  } catch (const std::invalid_argument& e) {
    fmt::print("gather raised: {}\n", e.what());
  }

  // gather(*tasks, return_exceptions=True): every task runs to its end
  std::vector<coring::task<int>> tasks;
  for (int n = 1; n <= 6; ++n) tasks.push_back(compute(n));
  auto results = co_await coring::gather_settled(std::move(tasks));
  std::vector<int> successes;
  std::vector<std::string> failures;
  for (auto& r : results) {
    if (r)
      successes.push_back(r.value());
    else
      failures.push_back(coring::describe_exception(r.error()));
  }
  fmt::print("successes: {}\n", successes);
  fmt::print("failures: {}\n", failures);

  // a task group: the first failure cancels the rest, every failure is reported
  try {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      for (int n : {3, 4, 6, 50}) tg.spawn(compute(n), fmt::format("compute({})", n));
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    fmt::print("task group raised:\n{}\n", eg);
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_gather()); }
#endif
