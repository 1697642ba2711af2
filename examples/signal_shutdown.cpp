// wait_for_signal: a service stops gracefully on SIGINT or SIGTERM.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

using namespace std::chrono_literals;

coring::task<> serve() {  // stands in for a server loop
  for (;;) co_await coring::sleep(1s);
}
coring::task<> send_myself_sigterm() {  // stands in for `kill <pid>`
  co_await coring::sleep(1ms);
  ::kill(::getpid(), SIGTERM);
}

coring::task<int> main_task() {
  int got = 0;
  // example-begin
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(serve(), "serve");
    tg.spawn(send_myself_sigterm(), "kill");
    int sig = co_await coring::wait_for_signal({SIGINT, SIGTERM});
    fmt::print("got signal {}, stopping\n", sig);
    got = sig;
    tg.cancel();  // cancels serve(); the group then ends quietly
  });
  // example-end
  co_return got == SIGTERM ? 0 : 1;
}

int main() {
  // example-begin
  coring::block_signals({SIGINT, SIGTERM});  // before starting threads of your own
  // example-end
  return coring::run(main_task());
}
