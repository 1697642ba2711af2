// coring::fail_after, Trio's name for with_timeout, here on virtual time.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  auto slow = []() -> coring::task<int> {
    co_await coring::sleep(10min);
    co_return 1;
  };
  try {
    co_await coring::fail_after(5min, slow());
  } catch (const coring::timeout_error&) {
    ok = true;
  }
  // example-end
  co_return ok;
}

int main() {
  coring::runtime_options opts;
  opts.virtual_time = true;  // five minutes of waiting take no real time
  return coring::run(example(), opts) ? 0 : 1;
}
