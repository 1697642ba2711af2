// coring::http::client::stream: a download read as it arrives, and an upload written by a
// producer (with a Content-Length), both in constant memory.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> serve_or_count(coring::http::request& req, coring::http::body_reader& body) {
  if (req.method == "GET") co_return coring::http::response::text(200, std::string(100000, 'd'));
  const std::string all = co_await body.read_all();
  co_return coring::http::response::text(200, std::to_string(all.size()));
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string url = fmt::format("http://127.0.0.1:{}/", l.local_port());
  coring::http::client c;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, serve_or_count));
    {
      // example-begin
      coring::http::streaming_response r = co_await c.stream("GET", url);
      r.raise_for_status();
      std::uint64_t total = 0;
      while (true) {
        std::string_view piece = co_await r.body().read();  // constant memory
        if (piece.empty()) break;
        total += piece.size();
      }
      // example-end
      ok = total == 100000;
    }
    // example-begin
    coring::http::request up("PUT", url);
    up.body_length = 3 * 1000;
    up.body_stream = [](coring::http::body_writer& w) -> coring::task<> {
      const std::string block(1000, 'x');
      for (int i = 0; i < 3; ++i) co_await w.write(block);
    };
    coring::http::response done = co_await c.send(std::move(up));
    // example-end
    ok = ok && done.body == "3000";
    srv.cancel();
  });
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
