// coring::stats: a sleep costs one io_uring_enter, and the counters print with fmt.
#include <coring/coring.hpp>
#include <fmt/format.h>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  const coring::runtime_stats before = coring::stats();
  co_await coring::sleep(1ms);
  const coring::runtime_stats after = coring::stats();
  ok = after.enters - before.enters == 1 && after.timers - before.timers == 1;
  fmt::print("{}\n", after);  // enters=1 sqes=0 cqes=0 iterations=2 tasks=1 ...
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
