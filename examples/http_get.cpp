// coring::http::get and response::raise_for_status against a coring server on loopback:
// a 200 passes, a 404 throws status_error.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> pages(const coring::http::request& req) {
  if (req.path() != "/hello") co_return coring::http::response::text(404, "no such page\n");
  co_return coring::http::response::text(200, "hello\n");
}

coring::task<bool> fetch(std::string url) {
  // example-begin
  coring::http::response r = co_await coring::http::get(url);
  r.raise_for_status();  // throws status_error for 4xx / 5xx
  // example-end
  co_return r.body == "hello\n";
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string base = fmt::format("http://127.0.0.1:{}", l.local_port());
  bool ok = false, threw = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, pages), "server");
    ok = co_await fetch(base + "/hello");
    try {
      co_await fetch(base + "/missing");
    } catch (const coring::http::status_error& e) {
      threw = e.status() == 404;
    }
    srv.cancel();
  });
  coring::http::default_client().close_idle();
  co_return ok && threw;
}

int main() { return coring::run(demo()) ? 0 : 1; }
