// run_blocking: work off the loop, and long work that stops when its caller is cancelled.
#include <coring/blocking.hpp>
#include <coring/cancel.hpp>
#include <coring/runtime.hpp>

#include <chrono>
#include <stop_token>
#include <thread>

using namespace std::chrono_literals;

coring::task<int> example() {
  // example-begin
  // A computation off the loop; the loop keeps serving other tasks meanwhile.
  const long sum = co_await coring::run_blocking([] {
    long s = 0;
    for (long i = 1; i <= 1000; ++i) s += i;
    return s;
  });
  // Long work that cooperates with cancellation through its stop_token.
  const bool finished = co_await coring::move_on_after(10ms, coring::run_blocking([](std::stop_token st) {
    while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
  }));
  // sum == 500500, finished == false
  // example-end
  co_return sum == 500500 && !finished ? 0 : 1;
}

int main() { return coring::run(example()); }
