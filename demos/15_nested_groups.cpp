// Demo 15 — nested groups: an inner group's failure cancels only its own tasks; the outer
// group's other tasks go on. Left uncaught, it reaches the outer group as a NESTED
// exception_group (never flattened), which cancels the outer siblings in turn.
//
// Mirrors the "Nested groups" tip (seed: setting up task groups):
//     "TaskGroups can be nested. Use inner groups for sub-operations that should be
//      cancelled together without affecting the outer group's other tasks."
//     async with asyncio.TaskGroup() as outer:
//         outer.create_task(load_text())
//         outer.create_task(load_images())   # runs its own TaskGroup of thumbnails
//
// Run: build/demos/demo_nested_groups
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;

namespace {

coring::task<> thumbnail(int n) {
  const std::chrono::milliseconds takes[] = {0ms, 5ms, 10ms, 50ms, 80ms};  // thumbnail 2 fails at 10 ms
  try {
    co_await coring::sleep(takes[n]);
  } catch (const coring::cancelled&) {
    fmt::print("  thumbnail {} cancelled\n", n);
    throw;
  }
  if (n == 2) throw std::runtime_error("thumbnail 2: corrupt image");
  fmt::print("  thumbnail {} loaded\n", n);
}

coring::task<> load_images_inner_group() {
  co_await coring::with_task_group([](coring::task_group& tg) -> coring::task<> {
    for (int n = 1; n <= 4; ++n) tg.spawn(thumbnail(n), fmt::format("thumbnail-{}", n));
    co_return;
  });
}

coring::task<> load_images(bool contain_failure) {
  if (!contain_failure) {
    co_await load_images_inner_group();
    co_return;
  }
  try {
    co_await load_images_inner_group();
  } catch (const coring::exception_group& eg) {
    fmt::print("  images: {} failed, using placeholders\n", eg.size());
  }
}

coring::task<> load_text() {
  try {
    co_await coring::sleep(30ms);
  } catch (const coring::cancelled&) {
    fmt::print("  text cancelled\n");
    throw;
  }
  fmt::print("  text loaded\n");
}

coring::task<> load_page(bool contain_failure) {
  co_await coring::with_task_group([=](coring::task_group& outer) -> coring::task<> {
    outer.spawn(load_text(), "text");
    outer.spawn(load_images(contain_failure), "images");
    co_return;
  });
}

}  // namespace

coring::task<> demo_nested_groups() {
  fmt::print("inner failure handled inside:\n");
  co_await load_page(true);
  fmt::print("page ready\n");

  fmt::print("inner failure left to propagate:\n");
  try {
    co_await load_page(false);
  } catch (const coring::exception_group& eg) {
    fmt::print("{}\n", eg);
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_nested_groups()); }
#endif
