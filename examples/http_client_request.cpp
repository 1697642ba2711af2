// coring::http::client::request: a PUT with a header and a body through a pooled client.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> store(const coring::http::request& req) {
  co_return coring::http::response::text(200, req.method + " " + req.body + " " +
                                                  std::string(req.headers.get("Content-Type").value_or("-")));
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string url = fmt::format("http://127.0.0.1:{}/k", l.local_port());
  coring::http::client c;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, store), "server");
    // example-begin
    coring::http::header_map h{{"Content-Type", "text/plain"}};  // built before the co_await
    coring::http::response r = co_await c.request("PUT", url, h, "v");
    // example-end
    ok = r.status == 200 && r.body == "PUT v text/plain";
    srv.cancel();
  });
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
