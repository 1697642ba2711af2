// A TCP echo of one message over loopback: listener, accept, connect, read, write.
#include <coring/cancel.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#include <span>
#include <string>
#include <string_view>

using namespace std::chrono_literals;

coring::task<int> example() {
  // example-begin
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // port 0: any free port
  std::string echoed;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {  // the server: echo one message
      coring::tcp_stream conn = co_await listener.accept();
      char buf[64];
      const std::size_t n = co_await conn.read_some(std::span(buf));
      co_await conn.write_all(std::string_view(buf, n));
    });
    auto client = co_await coring::tcp_stream::connect("127.0.0.1", listener.local_port());
    co_await client.write_all("ping");
    char buf[64];
    const std::size_t n = co_await coring::with_timeout(2s, client.read_some(std::span(buf)));
    echoed.assign(buf, n);  // "ping"
  });
  // example-end
  co_return echoed == "ping" ? 0 : 1;
}

int main() { return coring::run(example()); }
