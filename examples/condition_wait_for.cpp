// condition::wait_for: wait until a predicate over the shared state holds.
#include <coring/coring.hpp>

namespace {

coring::task<bool> main_task() {
  coring::lock mu;
  coring::condition cv(mu);
  int arrived = 0;
  bool all_in = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 3; ++i)
      tg.spawn([&]() -> coring::task<> {
        auto guard = co_await mu.acquire();
        ++arrived;
        cv.notify_all();
      });
    // example-begin
    auto guard = co_await mu.acquire();
    all_in = co_await cv.wait_for([&] { return arrived == 3; });
    // example-end
  });
  co_return all_in;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
