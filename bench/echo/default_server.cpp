// default_server: the echo server of the echo benchmark written the way a user writes it
// (issue 12), beside the tuned coring_server: default runtime_options, a tcp_listener accept
// loop, one task per connection in a task group, read_some / write_all. Nothing here is
// tuned; run_echo reports it as `coring_default` so the default mode's cost is visible.
//
// Usage: default_server PORT [-s]
//   -s: print coring::stats() at exit.
// Listens on 127.0.0.1:PORT; stops cleanly on SIGINT / SIGTERM.
#include <coring/coring.hpp>
#include <coring/net.hpp>
#include <coring/signal.hpp>
#include <coring/task_group.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

coring::task<> echo(coring::tcp_stream s) {
  char buf[4096];
  try {
    for (;;) {
      std::size_t n = co_await s.read_some(buf, sizeof buf);
      if (n == 0) break;
      co_await s.write_all(std::string_view(buf, n));
    }
  } catch (const std::system_error&) {
    // a reset peer ends its own connection, not the server
  }
  co_await s.close();
}

// Not a coroutine: g++ 12 rejects a braced list inside a coroutine body.
coring::task<int> stop_signal() { return coring::wait_for_signal({SIGINT, SIGTERM}); }

coring::task<> serve(std::uint16_t port) {
  auto listener = coring::tcp_listener::bind("127.0.0.1", port);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(
        [&]() -> coring::task<> {
          co_await stop_signal();
          tg.cancel();
          listener.close();  // release the port now
        },
        "signals");
    for (;;) {
      coring::tcp_stream s = co_await listener.accept();
      tg.spawn(echo(std::move(s)), "conn");
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "-s")) {
    fmt::print(stderr, "usage: default_server PORT [-s]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    fmt::print(stderr, "default_server: PORT must be 1..65535, got '{}'\n", argv[1]);
    return 2;
  }
  try {
    coring::runtime rt;  // default runtime_options: the point of this server
    try {
      rt.run(serve(static_cast<std::uint16_t>(port)));
    } catch (const coring::cancelled&) {
      // the signal task cancelled the group: a normal stop
    }
    if (argc == 3) fmt::print(stderr, "default_server: {}\n", rt.stats());
  } catch (const std::exception& e) {
    fmt::print(stderr, "default_server: {}\n", e.what());
    return 1;
  }
  return 0;
}
