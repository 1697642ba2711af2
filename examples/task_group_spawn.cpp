// task_group::spawn: a task, an awaitable, or a callable returning a task (its captures
// live as long as the child).
#include <coring/coring.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

coring::task<int> square(int x) {
  co_await coring::checkpoint();
  co_return x * x;
}

coring::task<bool> main_task() {
  std::vector<int> seen;
  coring::task_handle<int> nine;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    // example-begin
    nine = tg.spawn(square(3), "square-3");             // a task
    tg.spawn(coring::sleep(1ms), "pause");              // any awaitable
    for (int i = 0; i < 3; ++i)
      tg.spawn([&seen, i]() -> coring::task<> {         // a callable: not called here
        co_await coring::checkpoint();
        seen.push_back(i);
      });
    // example-end
    co_return;
  });
  co_return nine.result() == 9 && nine.name() == "square-3" && seen.size() == 3;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
