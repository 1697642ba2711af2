// coring::http::server_options: settings are chained setters, safe to build inside a
// co_await expression (an aggregate there would be destroyed twice by g++ 12).
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
  coring::http::server_statistics st;
  coring::http::server_control ctl;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      // example-begin
      co_await coring::http::serve(l, hello, coring::http::server_options().header_timeout(5s).stats(&st).control(&ctl));
      // example-end
    });
    coring::http::client c;
    coring::http::response r = co_await c.get(url);
    ok = r.status == 200;
    ctl.drain(1s);
  });
  co_return ok && st.requests == 1;
}

int main() { return coring::run(demo()) ? 0 : 1; }
