// Demo 14 — named tasks: names show up in coring::dump_tasks() (the live task tree) and
// in the exception_group report, so you can tell which task is stuck or failed.
//
// Mirrors the "Named tasks for debugging" tip (seed: setting up task groups):
//     tg.create_task(coro(), name="fetch-user-123")
// and asyncio's task introspection (asyncio.all_tasks(), task.get_name(), print_stack).
//
// dump_tasks() prints every live task with its state (running, ready, "waiting on
// sleep") and its open task groups with their children, indented.
//
// Run: build/demos/demo_named_tasks
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> fetch_user(int id) {
  co_await coring::sleep(id == 404 ? 10ms : 20ms);
  if (id == 404) throw std::runtime_error(fmt::format("user {} not found", id));
  co_return fmt::format("user {}", id);
}

}  // namespace

coring::task<> demo_named_tasks() {
  coring::task_handle<std::string> alice;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    alice = tg.spawn(fetch_user(123), "fetch-user-123");
    tg.spawn(fetch_user(456), "fetch-user-456");
    co_await coring::sleep(1ms);  // let them start
    fmt::print("{}", coring::dump_tasks());
  });
  fmt::print("{} -> {}\n", alice.name(), alice.result());

  try {
    co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
      tg.spawn(fetch_user(7), "fetch-user-7");
      tg.spawn(fetch_user(404), "fetch-user-404");
      co_return;
    });
  } catch (const coring::exception_group& eg) {
    fmt::print("{}\n", eg);
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_named_tasks()); }
#endif
