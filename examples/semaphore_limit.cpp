// coring::semaphore: at most N tasks in a section at once.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

int in_flight = 0, most = 0;

coring::task<> fetch(const std::string&) {  // stands in for a request
  most = std::max(most, ++in_flight);
  co_await coring::sleep(std::chrono::milliseconds(1));
  --in_flight;
}

coring::task<int> main_task() {
  std::vector<std::string> urls(25, "http://example.invalid/");
  // example-begin
  coring::semaphore limit(10);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (const auto& url : urls)
      tg.spawn([&limit, &url]() -> coring::task<> {  // pass the callable: spawn keeps it alive
        auto p = co_await limit.acquire();  // at most 10 fetches at a time
        co_await fetch(url);
      });  // the permit is released when the task ends
    co_return;
  });
  // example-end
  if (most != 10) co_return 1;
  // example-begin
  if (auto p = limit.try_acquire()) {
    fmt::print("got a permit without waiting; {} left\n", limit.value());
  }  // released here
  fmt::print("{}\n", limit.statistics());  // semaphore(value=10 waiters=0 ...)
  // example-end
  // example-begin
  coring::semaphore ready(0);  // a signal: acquire waits until somebody releases
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> { auto p = co_await ready.acquire(); });
    ready.release();  // hands the unit straight to the waiter
    co_return;
  });
  // example-end
  co_return limit.value() == 10 && ready.value() == 1 ? 0 : 1;
}

int main() { return coring::run(main_task()); }
