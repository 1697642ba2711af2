// SO_REUSEPORT: two listeners share one port; a client connects and half-closes.
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/tcp.hpp>

#include <span>
#include <string>

coring::task<int> example() {
  // example-begin
  // Two listeners on one port (e.g. one per loop thread): the kernel spreads connections.
  coring::listen_options opts;
  opts.reuse_port(true);
  auto a = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", 0), opts);
  auto b = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", a.local_port()), opts);
  auto client = co_await coring::tcp_stream::connect("127.0.0.1", a.local_port());
  co_await client.write_all("hello");
  co_await client.shutdown();  // the peer reads end-of-stream after "hello"
  // example-end
  // Whichever listener the kernel chose has the connection; the other has none.
  std::string got;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (coring::tcp_listener* l : {&a, &b})
      tg.spawn([&got, &tg, l]() -> coring::task<> {
        coring::tcp_stream conn = co_await l->accept();
        char buf[16];
        for (std::size_t n; (n = co_await conn.read_some(std::span(buf))) > 0;) got.append(buf, n);
        tg.cancel();  // the other listener's accept will never complete
      });
    co_return;
  });
  co_return got == "hello" && a.local_port() == b.local_port() ? 0 : 1;
}

int main() { return coring::run(example()); }
