// coring::runtime: one ring for several runs on this thread, with chosen options.
#include <coring/coring.hpp>

coring::task<int> count_up(int n) {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    ++total;
    co_await coring::checkpoint();
  }
  co_return total;
}

int main() {
  // example-begin
  coring::runtime_options opts;
  opts.entries = 1024;
  coring::runtime rt(opts);
  int first = rt.run(count_up(10));
  int second = rt.run(count_up(20));  // the same ring, timers and counters
  const bool ok = first == 10 && second == 20 && rt.stats().tasks == 2;
  // example-end
  return ok ? 0 : 1;
}
