// Streaming bodies on the server: a response written by a producer (chunked), and a
// streaming_handler that reads an upload piece by piece; memory stays constant however
// large either body is.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> lines(const coring::http::request&) {
  // example-begin
  co_return coring::http::response::stream(200, [](coring::http::body_writer& w) -> coring::task<> {
    for (int i = 0; i < 3; ++i) {
      const std::string line = fmt::format("line {}\n", i);  // named: it must outlive the write
      co_await w.write(line);
    }
  }, "text/plain");
  // example-end
}

coring::task<coring::http::response> count(coring::http::request&, coring::http::body_reader& body) {
  // example-begin
  std::uint64_t total = 0;
  for (;;) {
    std::string_view piece = co_await body.read();
    if (piece.empty()) break;  // the whole body arrived
    total += piece.size();
  }
  // example-end
  co_return coring::http::response::text(200, std::to_string(total));
}

coring::task<bool> demo() {
  auto down = coring::tcp_listener::bind("127.0.0.1", 0);
  auto up = coring::tcp_listener::bind("127.0.0.1", 0);
  coring::http::client c;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto s1 = tg.spawn(coring::http::serve(down, lines));
    auto s2 = tg.spawn(coring::http::serve(up, count));
    coring::http::response r = co_await c.get(fmt::format("http://127.0.0.1:{}/", down.local_port()));
    const std::string body(100000, 'x');
    coring::http::response n = co_await c.post(fmt::format("http://127.0.0.1:{}/", up.local_port()), body);
    ok = r.body == "line 0\nline 1\nline 2\n" && r.headers.get("Transfer-Encoding") == "chunked" && n.body == "100000";
    s1.cancel();
    s2.cancel();
  });
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
