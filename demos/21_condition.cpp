// Demo 21 — a condition variable: consumers wait for jobs, the producer wakes n of them.
//
// Mirrors asyncio.Condition:
//     cond = asyncio.Condition()
//     async def consumer(name):
//         while True:
//             async with cond:
//                 await cond.wait_for(lambda: jobs or closed)
//                 if not jobs: return
//                 job = jobs.pop(0)
//             print(f"{name} got {job}")
//     async def producer():
//         for batch in ([1, 2], [3]):
//             async with cond:
//                 jobs.extend(batch)
//                 cond.notify(len(batch))
//         async with cond:
//             closed = True
//             cond.notify_all()
//
// notify(n) wakes the n longest-waiting consumers in order; each re-takes the lock before
// wait_for returns and re-checks the predicate. All in user space.
//
// Run: build/demos/demo_condition
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <deque>
#include <string>

namespace {

struct work {
  coring::lock mu;
  coring::condition cv{mu};
  std::deque<int> jobs;
  bool closed = false;
};

coring::task<> consumer(work& w, std::string name) {
  for (;;) {
    int job;
    {
      auto guard = co_await w.mu.acquire();
      co_await w.cv.wait_for([&] { return !w.jobs.empty() || w.closed; });
      if (w.jobs.empty()) break;
      job = w.jobs.front();
      w.jobs.pop_front();
    }
    fmt::print("{} got job {}\n", name, job);
    co_await coring::checkpoint();  // the job itself
  }
  fmt::print("{} stops\n", name);
}

}  // namespace

coring::task<> demo_condition() {
  work w;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (const char* name : {"consumer-1", "consumer-2", "consumer-3"}) tg.spawn(consumer(w, name), name);
    co_await coring::checkpoint();  // let them all wait
    for (auto batch : {std::deque<int>{1, 2}, std::deque<int>{3}}) {
      {
        auto guard = co_await w.mu.acquire();
        w.jobs.insert(w.jobs.end(), batch.begin(), batch.end());
        w.cv.notify(batch.size());
      }
      co_await coring::sleep(std::chrono::milliseconds(1));
    }
    auto guard = co_await w.mu.acquire();
    w.closed = true;
    w.cv.notify_all();
  });
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_condition()); }
#endif
