// coring::race: wait for the next message or for shutdown, whichever comes first.
#include <coring/coring.hpp>

#include <string>
#include <variant>

namespace {

coring::task<bool> main_task() {
  coring::queue<std::string> inbox;
  coring::event shutdown;
  int handled = 0;
  bool stopped = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      co_await inbox.put("hello");
      co_await coring::checkpoint();
      shutdown.set();
    });
    // example-begin
    for (;;) {
      auto next = co_await coring::race(inbox.get(), shutdown.wait());
      if (next.index() == 1) break;  // shutdown won; the get was cancelled and took nothing
      std::string msg = std::get<0>(next);
      ++handled;
    }
    // example-end
    stopped = true;
  });
  co_return handled == 1 && stopped && inbox.empty();
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
