// with_task_group: two children run concurrently; the block is left when both finished,
// and their results are read from the handles.
#include <coring/coring.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> fetch(std::string what) {
  co_await coring::sleep(1ms);  // stands in for real I/O
  co_return "<" + what + ">";
}

coring::task<bool> main_task() {
  // example-begin
  coring::task_handle<std::string> a, b;
  int n = co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<int> {
    a = tg.spawn(fetch("a"), "fetch-a");
    b = tg.spawn(fetch("b"), "fetch-b");
    co_return 2;              // the body's value is the group's, once the children finished
  });
  std::string both = a.result() + b.result();  // "<a><b>"
  // example-end
  co_return n == 2 && both == "<a><b>";
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
