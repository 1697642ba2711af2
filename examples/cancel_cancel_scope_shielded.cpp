// A shielded cancel scope: cleanup inside it awaits although the outer scope is cancelled.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

coring::task<bool> example() {
  bool ok = false;
  // example-begin
  coring::cancel_scope outer;
  outer.cancel();
  {
    coring::cancel_scope cleanup(coring::cancel_scope::shielded);
    co_await coring::sleep(5ms);  // does not throw: the outer cancel is held off
  }
  try {
    co_await coring::checkpoint();
  } catch (const coring::cancelled&) {
    ok = outer.owns_cancellation();  // raised again once the shield is left
  }
  // example-end
  co_return ok;
}

int main() { return coring::run(example()) ? 0 : 1; }
