// cancel_scope::cancel: level-triggered, every suspension point inside throws.
#include <coring/coring.hpp>

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  coring::cancel_scope scope;
  scope.cancel();
  int thrown = 0;
  for (int i = 0; i < 3; ++i) {
    try {
      co_await coring::checkpoint();
    } catch (const coring::cancelled&) {
      ++thrown;  // level-triggered: every suspension point throws
    }
  }
  ok = thrown == 3 && scope.cancel_called();
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
