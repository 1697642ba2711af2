// coring::sleep: the delay counts from the co_await, not from the call.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  auto nap = coring::sleep(20ms);             // made now, counted from the co_await
  co_await coring::sleep(30ms);
  const coring::time_point before = coring::clock::now();
  co_await std::move(nap);
  ok = coring::clock::now() - before >= 20ms;
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
