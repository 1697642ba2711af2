// coring::event: tasks wait until another task sets the flag.
#include <coring/coring.hpp>
#include <fmt/format.h>

coring::task<> load_config() { co_await coring::sleep(std::chrono::milliseconds(1)); }
coring::task<> serve(int& served) {
  ++served;  // stands in for real work
  co_return;
}

coring::task<int> main_task() {
  int served = 0;
  // example-begin
  coring::event ready;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 3; ++i)
      tg.spawn([&]() -> coring::task<> {
        co_await ready.wait();  // blocks until set(); returns at once once it is set
        co_await serve(served);
      });
    co_await load_config();
    ready.set();  // wakes every waiter; no system call
  });
  // example-end
  if (served != 3) co_return 1;
  // example-begin
  ready.clear();  // later waits block until the next set()
  const coring::event_statistics s = ready.statistics();
  fmt::print("{}\n", s);  // event(is_set=false waiters=0 sets=1)
  // example-end
  co_return s.is_set || s.waiters != 0 || s.sets != 1;
}

int main() { return coring::run(main_task()); }
