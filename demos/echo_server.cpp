// A TCP echo server that shuts down cleanly on SIGINT or SIGTERM.
//
// Python (asyncio):
//     async def handle(reader, writer):
//         while data := await reader.read(4096):
//             writer.write(data); await writer.drain()
//         writer.close()
//     async def main():
//         server = await asyncio.start_server(handle, "127.0.0.1", 0)
//         async with server: await server.serve_forever()   # Ctrl-C: cancelled
//
// In coring every connection is a child of one task group, so there are no stray tasks: a
// signal cancels the group, every connection is closed, the listener releases its port,
// and the program ends with the runtime's counters. With --self-test the demo talks to
// itself: it connects, echoes a few lines, then sends itself SIGINT.
//
// Run: ./build/demos/echo_server [PORT]     (then: nc 127.0.0.1 PORT; Ctrl-C to stop)
//      ./build/demos/echo_server --self-test
#include <coring/coring.hpp>
#include <coring/net.hpp>
#include <coring/signal.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

coring::task<> echo(coring::tcp_stream conn) {
  char buf[4096];
  try {
    while (std::size_t n = co_await conn.read_some(buf, sizeof buf)) co_await conn.write_all(std::string_view(buf, n));
  } catch (const std::system_error& e) {
    fmt::print("connection ended: {}\n", e.what());  // a reset peer ends only its connection
  }
  co_await conn.close();
}

coring::task<> talk_to(std::uint16_t port) {
  auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
  for (std::string line : {"hello", "echo", "server"}) {
    co_await c.write_all(line);
    std::string back(line.size(), '\0');
    co_await c.read_exact(std::span(back));
    fmt::print("sent {:7} got back {}\n", line, back);
  }
  ::raise(SIGINT);  // as if Ctrl-C were pressed
  co_await coring::sleep(1s);  // cancelled with the rest of the server
}

coring::task<> serve(std::uint16_t port, bool self_test) {
  auto listener = coring::tcp_listener::bind("127.0.0.1", port);
  fmt::print("listening on 127.0.0.1:{}\n", listener.local_port());
  coring::block_signals({SIGINT, SIGTERM});  // before any signal can arrive
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      int sig = co_await coring::wait_for_signal({SIGINT, SIGTERM});
      fmt::print("got {}: shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      tg.cancel();       // every connection and the accept loop below
      listener.close();  // the port is free again at once
    }, "signals");
    if (self_test) tg.spawn(talk_to(listener.local_port()), "self-test client");
    for (;;) tg.spawn(echo(co_await listener.accept()), "connection");
  });
  fmt::print("server stopped: {}\n", coring::stats());
}

int main(int argc, char** argv) {
  const bool self_test = argc > 1 && std::string(argv[1]) == "--self-test";
  const int port = argc > 1 && !self_test ? std::atoi(argv[1]) : 0;
  coring::run(serve(static_cast<std::uint16_t>(port), self_test));
}
