// Demo 18 — starting a server and waiting until it is ready: tg.start (Trio's nursery.start).
//
// Mirrors Trio:
//     async def echo_server(task_status=trio.TASK_STATUS_IGNORED):
//         listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
//         task_status.started(listeners[0].socket.getsockname()[1])
//         await trio.serve_listeners(echo, listeners)
//
//     async with trio.open_nursery() as nursery:
//         port = await nursery.start(echo_server)
//         stream = await trio.open_tcp_stream("127.0.0.1", port)   # already listening
//
// start() returns the value passed to status.started() while the server keeps running in
// the group: no sleep-and-hope, no event plus a shared variable. A server that fails
// before it is ready (here: its port is taken) makes start() raise that error.
//
// Run: build/demos/demo_start
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <cstdint>
#include <string>

namespace {

coring::task<> echo(coring::tcp_stream conn) {
  char buf[64];
  while (std::size_t n = co_await conn.read_some(buf)) co_await conn.write_all(std::string_view(buf, n));
}

// Listens on `port` (0: any free one), reports the port, then serves until cancelled.
auto echo_server(std::uint16_t port) {
  return [port](coring::task_status<std::uint16_t>& status) -> coring::task<> {
    auto listener = coring::tcp_listener::bind("127.0.0.1", port);
    status.started(listener.local_port());
    co_await coring::with_task_group([&](coring::task_group& conns) -> coring::task<> {
      for (;;) conns.spawn(echo(co_await listener.accept()));
    });
  };
}

}  // namespace

coring::task<> demo_start() {
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    std::uint16_t port = co_await tg.start<std::uint16_t>(echo_server(0), "echo-server");
    fmt::print("server ready on a free port; the client connects at once\n");
    auto client = co_await coring::tcp_stream::connect("127.0.0.1", port);
    co_await client.write_all("ping");
    char buf[16];
    std::size_t n = co_await client.read_some(buf);
    fmt::print("client got back: {}\n", std::string_view(buf, n));

    // A second server on the same port fails before started(): start() raises the error
    // (inside a nested group, whose report would otherwise cancel this one).
    try {
      co_await coring::with_task_group([&](coring::task_group& inner) -> coring::task<> {
        co_await inner.start<std::uint16_t>(echo_server(port), "second-server");
      });
    } catch (const coring::exception_group& eg) {
      eg.handle<std::system_error>([](const std::system_error& e) {
        fmt::print("second server failed to start: {}\n", e.code().message());
      });
    }
    tg.cancel();  // stop the first server
  });
  fmt::print("server stopped\n");
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_start()); }
#endif
