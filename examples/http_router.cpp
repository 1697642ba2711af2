// coring::http::router: method + path pattern -> handler, 404 for an unknown path, 405 with
// Allow for a known path with another method.
#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

coring::task<coring::http::response> get_user(const coring::http::request& req) {
  co_return coring::http::response::text(200, fmt::format("user {}", req.params.get("id").value_or("?")));
}
coring::task<coring::http::response> put_user(const coring::http::request& req) {
  co_return coring::http::response::text(200, fmt::format("stored {}", req.body));
}
coring::task<coring::http::response> get_file(const coring::http::request& req) {
  co_return coring::http::response::text(200, std::string(req.params.get("path").value_or("")));
}

coring::task<bool> demo() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string base = fmt::format("http://127.0.0.1:{}", l.local_port());
  coring::http::client c;
  bool ok = false;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    // example-begin
    coring::http::router rt;
    rt.route("GET", "/users/{id}", get_user).route("PUT", "/users/{id}", put_user);
    rt.route("GET", "/files/{path...}", get_file);
    tg.spawn(coring::http::serve(l, rt));
    // GET /users/7 -> get_user with req.params.get("id") == "7"
    // DELETE /users/7 -> 405, Allow: GET, HEAD, PUT;  GET /nope -> 404
    // example-end
    coring::http::response user = co_await c.get(base + "/users/7");
    coring::http::response file = co_await c.get(base + "/files/a/b%20c.txt");
    coring::http::response del = co_await c.request("DELETE", base + "/users/7");
    coring::http::response nope = co_await c.get(base + "/nope");
    ok = user.body == "user 7" && file.body == "a/b c.txt" && del.status == 405 &&
         del.headers.get("Allow") == "GET, HEAD, PUT" && nope.status == 404;
    tg.cancel();
  });
  co_return ok;
}

int main() { return coring::run(demo()) ? 0 : 1; }
