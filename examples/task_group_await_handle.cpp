// co_await on a task handle: the body waits for one child's result while another child
// goes on; awaiting does not cancel the task.
#include <coring/coring.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> load_config() {
  co_await coring::sleep(1ms);
  co_return "port=8080";
}

coring::task<int> count_ticks(coring::event& stop) {
  int n = 0;
  while (!stop.is_set()) {
    co_await coring::checkpoint();
    ++n;
  }
  co_return n;
}

coring::task<bool> main_task() {
  std::string config;
  bool ticked = false;
  coring::event stop;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    // example-begin
    auto cfg = tg.spawn(load_config(), "config");
    auto ticks = tg.spawn(count_ticks(stop), "ticker");
    config = co_await cfg;  // waits for "config" only; "ticker" runs meanwhile
    stop.set();
    ticked = (co_await ticks) > 0;
    // example-end
  });
  co_return config == "port=8080" && ticked;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
