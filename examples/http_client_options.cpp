// coring::http::client_options: a client with at most 4 sockets whose idle keep-alive
// sockets are reused for 5 s; two requests share one connection.
#include <chrono>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#include "http_hello.hpp"

using namespace std::chrono_literals;

coring::task<bool> demo() {
  hello_site site;
  auto& l = site.listener;
  const std::string& url = site.url;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto srv = tg.spawn(coring::http::serve(l, hello), "server");
    // example-begin
    coring::http::client c(coring::http::client_options().max_connections(4).idle_timeout(5s));
    // example-end
    coring::http::response a = co_await c.get(url);
    coring::http::response b = co_await c.get(url);
    ok = a.status == 200 && b.status == 200 && c.statistics().connections_opened == 1;
    srv.cancel();
  });
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
