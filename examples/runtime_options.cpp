// runtime_options: a bigger ring and batch mode for a ping-pong server.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<int> serve() {
  co_await coring::checkpoint();  // stands in for the server
  co_return 0;
}

int main() {
  // example-begin
  coring::runtime_options opts;
  opts.entries = 4096;                     // more SQEs per enter
  opts.wait_batch = 16;                    // wait for up to 16 CQEs at once...
  opts.wait_batch_timeout = 10ms;          // ...but never longer than 10 ms
  int rc = coring::run(serve(), opts);
  // example-end
  return rc;
}
