// tg.start: a server task binds a port, reports it with status.started(port), and keeps
// serving in the group while the body connects to it.
#include <coring/coring.hpp>

#include <cstdint>
#include <string>

namespace {

coring::task<bool> main_task() {
  std::string reply;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    // example-begin
    auto serve_one = [](coring::task_status<std::uint16_t>& status) -> coring::task<> {
      auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // any free port
      status.started(listener.local_port());                     // start() returns it now
      auto conn = co_await listener.accept();
      co_await conn.write_all("hello");
    };
    std::uint16_t port = co_await tg.start<std::uint16_t>(serve_one, "server");
    auto client = co_await coring::tcp_stream::connect("127.0.0.1", port);  // already listening
    // example-end
    char buf[16];
    std::size_t n = co_await client.read_some(buf);
    reply.assign(buf, n);
  });
  co_return reply == "hello";
}

}  // namespace

int main() { return coring::run(main_task()) ? 0 : 1; }
