// coring::run: the whole program is one task, like asyncio.run(main()).
#include <coring/coring.hpp>

using namespace std::chrono_literals;

// example-begin
coring::task<int> serve() {
  co_await coring::sleep(1ms);  // stands in for the program's work
  co_return 0;                  // the exit status
}

int main() { return coring::run(serve()); }
// example-end
