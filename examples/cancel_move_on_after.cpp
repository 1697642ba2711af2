// coring::move_on_after: give up quietly on work that takes too long.
#include <coring/coring.hpp>
#include <fmt/format.h>

using namespace std::chrono_literals;

coring::task<int> compute() {
  co_await coring::sleep(1s);
  co_return 42;
}

coring::task<bool> example() {
  // example-begin
  std::optional<int> v = co_await coring::move_on_after(100ms, compute());  // takes 1 s
  if (!v) fmt::print("gave up\n");
  // example-end
  co_return !v.has_value();
}

int main() { return coring::run(example()) ? 0 : 1; }
