// coring::http::server_control: draining a server gracefully. The server answers one
// request, then drain() stops it: the kept-alive connection is idle, so it is closed at
// once and serve() returns well before the grace period ends.
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
  coring::http::client c;
  bool ok = false;
  // example-begin
  coring::http::server_control ctl;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(coring::http::serve(l, hello, coring::http::server_options().control(&ctl)));
    coring::http::response r = co_await c.get(url);  // served as usual
    ok = r.status == 200;
    ctl.drain(5s);  // serve() returns once the connection above is closed
  });
  // example-end
  co_return ok && ctl.draining();
}

int main() { return coring::run(demo()) ? 0 : 1; }
