// coring::checkpoint: a long computation lets other tasks in now and then.
#include <coring/coring.hpp>

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  long sum = 0;
  for (int i = 1; i <= 1000; ++i) {
    sum += i;
    if (i % 100 == 0) co_await coring::checkpoint();  // let other tasks in
  }
  ok = sum == 500500;
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
