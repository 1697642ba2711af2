// README.md's first example: two tasks in a task group under a timeout.
// example-begin
#include <coring/coring.hpp>
#include <fmt/format.h>
using namespace std::chrono_literals;

coring::task<int> fetch(int id) {
  co_await coring::sleep(10ms * id);  // stands in for real I/O
  co_return id * id;
}

coring::task<int> main_task() {
  coring::task_handle<int> a, b;
  co_await coring::with_timeout(1s, coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    a = tg.spawn(fetch(1), "one");
    b = tg.spawn(fetch(2), "two");  // runs concurrently with "one"
    co_return;
  }));                              // the group waits for both; a failure cancels the other
  fmt::print("{} {}\n", a.result(), b.result());
  fmt::print("{}\n", coring::stats());  // enters, SQEs, CQEs, tasks, frames, timers
  co_return a.result() + b.result();
}

int main() { return coring::run(main_task()) == 1 + 4 ? 0 : 1; }
// example-end
