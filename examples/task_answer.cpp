// coring::task<T>: lazy coroutines that await each other.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <stdexcept>

// example-begin
coring::task<int> answer() { co_return 42; }

coring::task<int> twice() {
  coring::task<int> t = answer();  // lazy: nothing has run yet
  int x = co_await std::move(t);   // runs answer() now, in this task's cancel scopes
  co_return 2 * x;
}

coring::task<> fails() {
  throw std::runtime_error("boom");  // rethrown by whoever awaits the task
  co_return;
}
// example-end

coring::task<int> main_task() {
  int y = co_await twice();
  try {
    co_await fails();
  } catch (const std::runtime_error& e) {
    fmt::print("{} {}\n", y, e.what());  // 84 boom
    co_return y;
  }
  co_return 0;
}

int main() { return coring::run(main_task()) == 84 ? 0 : 1; }
