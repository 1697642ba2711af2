// The umbrella header: one include for the whole library.
// example-begin
#include <coring/coring.hpp>

coring::task<int> main_task() {
  co_await coring::sleep(std::chrono::milliseconds(1));
  co_await coring::print("hello from coring\n");
  co_return 0;
}

int main() { return coring::run(main_task()); }
// example-end
