// task_group::cancel: stop every child and the body, and leave the group quietly.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

namespace {

coring::task<bool> main_task() {
  std::size_t running = 0;
  coring::task_handle<void> ticker;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    // example-begin
    ticker = tg.spawn([]() -> coring::task<> {
      for (;;) co_await coring::sleep(1ms);  // runs until cancelled
    }, "ticker");
    co_await coring::sleep(3ms);
    running = tg.size();                      // 1
    tg.cancel();                              // the group then ends without an error
    // example-end
  });
  co_return running == 1 && ticker.cancelled();
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
