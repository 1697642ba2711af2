// coring::http::serve in a task group: the server runs beside other work and is cancelled
// when that work is done; its handler answers with response::text.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> handler(const coring::http::request& req) {
  if (req.path() != "/") co_return coring::http::response::text(404, "no such page\n");
  co_return coring::http::response::text(200, "hello\n");
}

coring::task<bool> demo() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string url = fmt::format("http://127.0.0.1:{}/", listener.local_port());
  coring::http::client c;
  bool ok = false;
  auto do_work = [&]() -> coring::task<> {
    coring::http::response r = co_await c.get(url);
    ok = r.body == "hello\n";
  };
  // example-begin
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(listener, handler), "http-server");
    co_await do_work();
    srv.cancel();  // shut the server down at once (server_control drains it gently)
  });
  // example-end
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
