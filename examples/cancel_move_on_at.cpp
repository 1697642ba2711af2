// coring::move_on_at: a loop of rounds stopped by an absolute deadline, on virtual time.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  const coring::time_point stop = coring::clock::now() + 1min;
  int rounds = 0;
  bool finished = co_await coring::move_on_at(stop, [&]() -> coring::task<> {
    for (;;) {
      co_await coring::sleep(10s);
      ++rounds;
    }
  }());
  ok = !finished && rounds == 5;  // the deadline cuts the 6th round short
  // example-end
  co_return ok;
}

int main() {
  coring::runtime_options opts;
  opts.virtual_time = true;  // a minute of rounds takes no real time, and the count is exact
  return coring::run(example(), opts) ? 0 : 1;
}
