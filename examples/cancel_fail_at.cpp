// coring::fail_at: an absolute deadline that the work meets.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<int> quick() {
  co_await coring::sleep(10ms);
  co_return 7;
}

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  const coring::time_point deadline = coring::clock::now() + 100ms;
  int got = co_await coring::fail_at(deadline, quick());  // quick() takes 10 ms
  ok = got == 7;
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
