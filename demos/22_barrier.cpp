// Demo 22 — a barrier: workers go through phases together.
//
// Mirrors asyncio.Barrier:
//     barrier = asyncio.Barrier(3)
//     async def worker(i):
//         for phase in ("load", "compute", "save"):
//             await asyncio.sleep(0.001 * i)      # workers take different times
//             await barrier.wait()
//             if i == 0: print(f"{phase}: all 3 workers done")
//
// Nobody starts a phase before every worker finished the previous one; the same barrier
// serves every phase (generations). A worker cancelled while it waits does not count.
//
// Run: build/demos/demo_barrier
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <string>
#include <vector>

namespace {

const char* const phases[] = {"load", "compute", "save"};

coring::task<> worker(coring::barrier& barrier, int i, std::vector<int>& finished) {
  for (const char* phase : phases) {
    co_await coring::sleep(std::chrono::milliseconds(i));  // different speeds
    ++finished[i];
    co_await barrier.wait();
    if (i == 0) {
      int all = 0;
      for (int f : finished) all += f;
      fmt::print("{}: all {} workers done ({} steps so far)\n", phase, finished.size(), all);
    }
  }
}

}  // namespace

coring::task<> demo_barrier() {
  coring::barrier barrier(3);
  std::vector<int> finished(3, 0);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < 3; ++i) tg.spawn(worker(barrier, i, finished), "worker-" + std::to_string(i));
    co_return;
  });
  fmt::print("barrier passed {} times\n", barrier.generation());
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_barrier()); }
#endif
