// coring::shield: a cancelled task awaits its cleanup, then lets the cancellation go on.
#include <coring/coring.hpp>

#include <exception>

using namespace std::chrono_literals;

coring::task<> worker(bool& cleaned_up) {
  // example-begin
  std::exception_ptr err;
  try {
    co_await coring::sleep(1h);  // cancelled by the group
  } catch (...) {
    err = std::current_exception();
  }
  if (err) {
    co_await coring::shield(coring::sleep(10ms));  // stands in for closing a connection
    cleaned_up = true;
    std::rethrow_exception(err);
  }
  // example-end
}

coring::task<bool> example() {
  bool cleaned_up = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(worker(cleaned_up));
    co_await coring::sleep(1ms);
    tg.cancel();
  });
  co_return cleaned_up;
}

int main() { return coring::run(example()) ? 0 : 1; }
