// Receiving a whole stream through a multishot_reader and a shared buffer pool.
#include <coring/multishot.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#include <span>
#include <string>

coring::task<int> example() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  std::string result;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {  // the client: send, then half-close
      auto c = co_await coring::tcp_stream::connect("127.0.0.1", listener.local_port());
      co_await c.write_all("one two three");
      co_await c.shutdown();
    });
    coring::tcp_stream conn = co_await listener.accept();
    // example-begin
    coring::recv_buffer_pool pool(64, 4096);       // once per runtime, shared by readers
    coring::multishot_reader in(conn, pool);       // per connection; conn outlives it
    std::string got;
    char buf[256];
    for (std::size_t n; (n = co_await in.read_some(std::span(buf))) > 0;) got.append(buf, n);
    // example-end
    result = got;
  });
  co_return result == "one two three" ? 0 : 1;
}

int main() { return coring::run(example()); }
