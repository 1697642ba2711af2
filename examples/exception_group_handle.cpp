// coring::exception_group: every error of a task group, handled per type like except*.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

// Each fails on its first turn, before the group could cancel the others.
coring::task<> parse(int n) {
  if (n % 2) throw std::invalid_argument("bad record " + std::to_string(n));
  co_return;
}
coring::task<> open_config() {
  throw std::system_error(ENOENT, std::generic_category(), "open app.conf");
  co_return;
}

coring::task<int> main_task() {
  int bad_records = 0;
  bool io_failed = false;
  // example-begin
  try {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn(parse(1), "parse-1");
      tg.spawn(parse(3), "parse-3");  // every error is kept, with its task's name
      tg.spawn(open_config(), "config");
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    fmt::print("{}\n", eg);  // the tree, each error under the name of its task
    auto [values, rest] = eg.split<std::invalid_argument>();  // Python's eg.split
    fmt::print("{} value error(s), {} other(s)\n", values ? values->size() : 0, rest ? rest->size() : 0);
    eg.handle(coring::except<std::invalid_argument>([&](const std::invalid_argument& e) {
                fmt::print("skipping: {}\n", e.what());  // once per matching error
                ++bad_records;
              }),
              coring::except<std::system_error>([&](const coring::exception_group& g) {
                fmt::print("{} I/O error(s)\n", g.size());  // once, with the matching part
                io_failed = true;
              }));  // whatever no clause matched would be rethrown as a group
  }
  // example-end
  co_return bad_records == 2 && io_failed ? 0 : 1;
}

int main() { return coring::run(main_task()); }
