// coring::lock: a read-modify-write that spans a suspension stays exclusive.
#include <coring/coring.hpp>

namespace {

coring::task<bool> main_task() {
  coring::lock mu;
  int balance = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 10; ++i)
      tg.spawn([&]() -> coring::task<> {
        // example-begin
        auto guard = co_await mu.acquire();  // async with lock:
        int seen = balance;
        co_await coring::checkpoint();       // others run here, but not in this block
        balance = seen + 1;
        // example-end
      });
    co_return;
  });
  co_return balance == 10;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
