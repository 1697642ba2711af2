// coring::print: output through the ring, no write(2) of the program's own.
#include <coring/coring.hpp>

coring::task<> main_task() {
  const int n = 3;
  const double ms = 1.5;
  // example-begin
  co_await coring::print("hello\n");
  co_await coring::print("{} items in {} ms\n", n, ms);  // fmt syntax
  co_await coring::print("to stderr\n", 2);               // any descriptor
  // example-end
}

int main() { coring::run(main_task()); }
