// task_handle after the group: done(), cancelled(), exception(), result(), name().
#include <coring/coring.hpp>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<int> ok() { co_return 1; }
coring::task<int> bad() {
  co_await coring::checkpoint();
  throw std::runtime_error("bad input");
}

coring::task<bool> main_task() {
  coring::task_handle<int> good, failed, stopped;
  try {
    co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
      good = tg.spawn(ok(), "ok");
      failed = tg.spawn(bad(), "bad");
      stopped = tg.spawn([]() -> coring::task<int> {
        co_await coring::sleep(1h);
        co_return 0;
      }, "stopped");
      co_await coring::checkpoint();
      stopped.cancel();  // this child only
    });
  } catch (const coring::exception_group&) {
    // "bad" failed; its handle has the details
  }
  // example-begin
  for (const auto& h : {good, failed, stopped}) {
    if (h.cancelled())
      fmt::print("{}: cancelled\n", h.name());
    else if (h.exception())
      fmt::print("{}: failed: {}\n", h.name(), coring::describe_exception(h.exception()));
    else
      fmt::print("{}: {}\n", h.name(), h.result());
  }
  // example-end
  co_return good.done() && good.result() == 1 && failed.exception() && stopped.cancelled();
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
