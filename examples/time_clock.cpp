// coring::clock under virtual time: a two-hour sleep returns at once, and the clock moved
// by exactly two hours.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  const coring::time_point start = coring::clock::now();
  co_await coring::sleep(2h);                        // virtual: returns at once
  const coring::duration slept = coring::clock::now() - start;
  ok = slept == std::chrono::hours(2);               // exact under virtual time
  // example-end
  co_return ok;
}

int main() {
  coring::runtime_options opts;
  opts.virtual_time = true;
  return coring::run(example(), opts) ? 0 : 1;
}
