// task_group::spawn_on: one child per loop thread; a failure on one thread cancels the
// children on the others.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <atomic>
#include <stdexcept>

using namespace std::chrono_literals;

std::atomic<int> stopped{0};

coring::task<> serve_shard(unsigned k) {
  if (k == 1) {
    co_await coring::sleep(1ms);
    throw std::runtime_error("shard 1 failed");
  }
  try {
    co_await coring::sleep(1h);  // cancelled by shard 1's failure, on its own thread
  } catch (const coring::cancelled&) {
    stopped.fetch_add(1);
    throw;
  }
}

coring::task<int> main_task() {
  try {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      // example-begin
      for (unsigned k = 0; k < coring::thread_count(); ++k)
        tg.spawn_on(k, [k]() -> coring::task<> { co_await serve_shard(k); }, fmt::format("shard-{}", k));
      // example-end
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    fmt::print("{}\n", eg);
    co_return eg.size() == 1 && stopped.load() == 2 ? 0 : 1;
  }
  co_return 1;
}

int main() {
  coring::runtime_options opts;
  opts.threads = 3;
  return coring::run(main_task(), opts);
}
