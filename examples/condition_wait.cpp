// coring::condition: a consumer waits (holding the lock) until a producer adds a job and
// notifies.
#include <coring/coring.hpp>

#include <deque>

namespace {

coring::task<bool> main_task() {
  coring::lock mu;
  coring::condition cv(mu);
  std::deque<int> jobs;
  int got = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      // example-begin
      auto guard = co_await mu.acquire();
      while (jobs.empty()) co_await cv.wait();  // unlocked while waiting, locked again after
      got = jobs.front();
      jobs.pop_front();
      // example-end
    });
    co_await coring::checkpoint();
    auto guard = co_await mu.acquire();
    jobs.push_back(7);
    cv.notify();
  });
  co_return got == 7;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
