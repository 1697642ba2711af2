// Awaiting a coring::http::request value sends it with the default client.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> echo_method(const coring::http::request& req) {
  co_return coring::http::response::text(200, req.method);
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string url = fmt::format("http://127.0.0.1:{}/k", l.local_port());
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, echo_method), "server");
    // example-begin
    auto r = co_await coring::http::request("DELETE", url);
    // example-end
    ok = r.body == "DELETE";
    srv.cancel();
  });
  coring::http::default_client().close_idle();
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
