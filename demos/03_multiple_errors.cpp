// Demo 3 — multiple exception types: every child's error is kept, and each type gets its
// own handler (`except*` clauses); whatever no clause handles propagates.
//
// Mirrors "Multiple Exception Types" (seed: asyncio.TaskGroup lesson):
//     try:
//         async with asyncio.TaskGroup() as tg:
//             tg.create_task(raise_value_error())
//             tg.create_task(raise_type_error())
//     except* ValueError as eg:
//         print(f"Value errors: {eg.exceptions}")
//     except* TypeError as eg:
//         print(f"Type errors: {eg.exceptions}")
//
// std::invalid_argument plays ValueError; C++ has no TypeError, so type_error is ours. A
// third child raises an error neither clause names: handle() rethrows it, in a group of
// the same shape, like a Python ExceptionGroup left over after the except* clauses.
//
// Run: build/demos/demo_multiple_errors
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>
#include <system_error>

struct type_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace {

coring::task<> raise_value_error() { throw std::invalid_argument("bad value"); co_return; }
coring::task<> raise_type_error() { throw type_error("bad type"); co_return; }
coring::task<> raise_os_error() { throw std::system_error(ENOENT, std::system_category(), "open config"); co_return; }

// "[std::invalid_argument: bad value]": Python's repr of eg.exceptions.
std::string describe_all(const coring::exception_group& eg) {
  std::string out;
  for (const auto& e : eg.exceptions()) out += (out.empty() ? "" : ", ") + coring::describe_exception(e);
  return "[" + out + "]";
}

}  // namespace

coring::task<> demo_multiple_errors() {
  try {
    try {
      co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
        tg.spawn(raise_value_error(), "value");
        tg.spawn(raise_type_error(), "type");
        tg.spawn(raise_os_error(), "os");
        co_return;
      });
    } catch (const coring::exception_group& eg) {
      eg.handle(coring::except<std::invalid_argument>([](const coring::exception_group& g) {
                  fmt::print("Value errors: {}\n", describe_all(g));
                }),
                coring::except<type_error>([](const coring::exception_group& g) {
                  fmt::print("Type errors: {}\n", describe_all(g));
                }));
    }
  } catch (const coring::exception_group& rest) {
    fmt::print("Not handled, propagated: {}\n", describe_all(rest));
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_multiple_errors()); }
#endif
