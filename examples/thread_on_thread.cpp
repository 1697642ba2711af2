// on_thread: a structured child on another loop thread; runtime_options::threads.
#include <coring/coring.hpp>

using namespace std::chrono_literals;

// example-begin
coring::task<int> main_task() {
  // Runs on thread 1, as a child of this task: its value (or exception) comes back.
  const unsigned where = co_await coring::on_thread(1, []() -> coring::task<unsigned> {
    co_await coring::sleep(1ms);  // thread 1's timer and ring
    co_return coring::thread_index();
  });
  co_return where == 1 && coring::thread_index() == 0 ? 0 : 1;
}
// example-end

int main() {
  // example-begin
  coring::runtime_options opts;
  opts.threads = 2;  // thread 0 runs main_task; thread 1 waits for work
  return coring::run(main_task(), opts);
  // example-end
}
