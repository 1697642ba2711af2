// coring::sleep_until: sleeps until an absolute time of coring::clock.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  const coring::time_point wake = coring::clock::now() + 50ms;
  co_await coring::sleep_until(wake);
  ok = coring::clock::now() >= wake;
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
