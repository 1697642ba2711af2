// thread_stats and total: every loop thread's counters.
#include <coring/coring.hpp>
#include <fmt/format.h>

coring::task<int> main_task() {
  co_await coring::on_thread(1, []() -> coring::task<> { co_return; });
  bool ok = false;
  // example-begin
  std::vector<coring::runtime_stats> per_thread = co_await coring::thread_stats();
  coring::runtime_stats all = coring::total(per_thread);
  ok = per_thread.size() == 2 && all.tasks == per_thread[0].tasks + per_thread[1].tasks;
  // example-end
  fmt::print("{}\n", all);
  co_return ok ? 0 : 1;
}

int main() {
  coring::runtime_options opts;
  opts.threads = 2;
  return coring::run(main_task(), opts);
}
