// Demo 19 — race: whichever happens first wins, the rest is cancelled.
//
// Mirrors asyncio.wait(..., return_when=FIRST_COMPLETED):
//     reply = asyncio.create_task(ask(server))
//     give_up = asyncio.create_task(asyncio.sleep(0.100))
//     done, pending = await asyncio.wait({reply, give_up}, return_when=FIRST_COMPLETED)
//     for t in pending:
//         t.cancel()
//     await asyncio.gather(*pending, return_exceptions=True)
//     if reply in done: print(reply.result())
//
// coring::race(a, b, ...) takes any awaitables (tasks, sleeps, queue gets, events, task
// handles...), cancels and awaits the losers before it returns, and says who won with
// the variant's index(). A failing first finisher makes race raise its error. (For "the
// first of several equivalent requests to SUCCEED", see first_success in gather.hpp.)
//
// Run: build/demos/demo_race
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <string>
#include <variant>

using namespace std::chrono_literals;

namespace {

coring::task<std::string> ask(std::chrono::milliseconds takes, bool& cancelled) {
  try {
    co_await coring::sleep(takes);
  } catch (const coring::cancelled&) {
    cancelled = true;
    throw;
  }
  co_return "42";
}

}  // namespace

coring::task<> demo_race() {
  for (auto takes : {1ms, 500ms}) {
    bool cancelled = false;
    auto r = co_await coring::race(ask(takes, cancelled), coring::sleep(100ms));
    if (r.index() == 0)
      fmt::print("reply won: {}\n", std::get<0>(r));
    else
      fmt::print("the 100 ms deadline won; the request was cancelled: {}\n", cancelled);
  }

  // A loop that serves messages until shutdown: a get that loses consumes nothing.
  coring::queue<std::string> inbox;
  coring::event shutdown;
  int handled = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      for (const char* m : {"a", "b", "c"}) co_await inbox.put(m);
      co_await coring::sleep(1ms);
      shutdown.set();
      inbox.put_nowait("late");
    });
    for (;;) {
      auto next = co_await coring::race(shutdown.wait(), inbox.get());
      if (next.index() == 0) break;
      ++handled;
    }
  });
  fmt::print("handled {} messages, then shutdown; {} left in the inbox\n", handled, inbox.size());
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_race()); }
#endif
