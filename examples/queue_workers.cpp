// coring::queue: a producer feeds five consumers through a bounded queue.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <vector>

struct job {
  int n;
};

coring::task<int> main_task() {
  std::vector<job> jobs;
  for (int i = 1; i <= 1000; ++i) jobs.push_back({i});
  long sum = 0;
  auto handle = [&sum](const job& j) { sum += j.n; };
  // example-begin
  coring::queue<job> q(100);  // bounded: put waits while 100 items are queued
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {  // producer
      for (auto& j : jobs) co_await q.put(std::move(j));
      q.shutdown();  // consumers drain the backlog, then get() throws queue_shut_down
    });
    for (int i = 0; i < 5; ++i)
      tg.spawn([&]() -> coring::task<> {  // consumers
        try {
          for (;;) handle(co_await q.get());
        } catch (const coring::queue_shut_down&) {
        }
      });
    co_return;
  });
  // example-end
  if (sum != 500500) co_return 1;
  // example-begin
  coring::queue<int> work;  // unbounded
  work.put_nowait(1);
  work.put_nowait(2);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      for (;;) {
        int item = co_await work.get();
        fmt::print("processed {}\n", item);
        work.task_done();  // join() returns once every item put is marked done
      }
    });
    co_await work.join();  // all work done
    fmt::print("{}\n", work.statistics());  // queue(size=0 maxsize=0 getters=1 ...)
    tg.cancel();           // stop the worker blocked in get()
  });
  // example-end
  // example-begin
  coring::queue<int> small(1);
  small.put_nowait(7);
  try {
    small.put_nowait(8);
  } catch (const coring::queue_full&) {
    fmt::print("full: dropped 8\n");
  }
  while (!small.empty()) fmt::print("took {}\n", small.get_nowait());
  // example-end
  co_return small.statistics().puts == 1 && work.empty() ? 0 : 1;
}

int main() { return coring::run(main_task()); }
