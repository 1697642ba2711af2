// coring::http::response::text and with_body: what a handler returns.
#include <coring/http.hpp>

int main() {
  // example-begin
  auto r = coring::http::response::text(200, "hello\n");
  auto j = coring::http::response::with_body(201, R"({"id": 7})", "application/json");
  // example-end
  return r.headers.get("Content-Type") == "text/plain; charset=utf-8" && j.status == 201 ? 0 : 1;
}
