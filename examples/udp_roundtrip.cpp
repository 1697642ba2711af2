// A UDP request and reply over loopback.
#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/udp.hpp>

#include <span>
#include <string_view>

using namespace std::chrono_literals;

coring::task<int> example() {
  // example-begin
  auto server = coring::udp_socket::bind("127.0.0.1", 0);  // port 0: any free port
  auto client = coring::udp_socket::bind("127.0.0.1", 0);
  co_await client.send_to("ping", server.local_endpoint());
  char buf[1500];
  const coring::datagram d = co_await coring::with_timeout(2s, server.recv_from(std::span(buf)));
  co_await server.send_to(std::string_view(buf, d.size), d.from);  // reply to the sender
  const coring::datagram r = co_await coring::with_timeout(2s, client.recv_from(std::span(buf)));
  // example-end
  const bool ok = std::string_view(buf, r.size) == "ping" && !r.truncated && r.from == server.local_endpoint() &&
                  d.from == client.local_endpoint();
  co_await client.close();
  co_await server.close();
  co_return ok ? 0 : 1;
}

int main() { return coring::run(example()); }
