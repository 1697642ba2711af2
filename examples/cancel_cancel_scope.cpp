// coring::cancel_scope with a deadline; the handler swallows only its own scope's cancel.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  // example-begin
  bool expired = false;
  {
    coring::cancel_scope scope;
    scope.set_deadline(coring::clock::now() + 1s);
    try {
      co_await coring::sleep(1h);
    } catch (const coring::cancelled&) {
      if (!scope.owns_cancellation()) throw;  // an outer cancel: not ours to swallow
      expired = true;
    }
  }
  // example-end
  co_return expired;
}

int main() {
  coring::runtime_options opts;
  opts.virtual_time = true;  // the hour-long sleep and the 1 s deadline take no real time
  return coring::run(example(), opts) ? 0 : 1;
}
