// dump_tasks: the live task tree, with names and what each task waits on.
#include <coring/coring.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<bool> main_task() {
  std::string tree;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(coring::sleep(5ms), "sleeper");
    co_await coring::checkpoint();
    // example-begin
    tree = coring::dump_tasks();
    fmt::print("{}", tree);  // main #1: running / task group: 1 running / sleeper #2: waiting on sleep
    // example-end
  });
  co_return tree.find("sleeper") != std::string::npos && tree.find("waiting on sleep") != std::string::npos;
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
