// coring::http::percent_decode, percent_encode and parse_query: the URL helpers a handler
// uses on a request's path and query (no I/O).
#include <string>

#include <coring/http.hpp>

int main() {
  // example-begin
  std::string name = coring::http::percent_decode("caf%C3%A9%20au%20lait");  // "café au lait"
  auto q = coring::http::parse_query("q=a+b&tag=x&tag=y&empty");
  // q.get("q") == "a b", q.get_all("tag") == {"x", "y"}, q.get("empty") == ""
  // example-end
  const std::string url = "/search?q=" + coring::http::percent_encode("a b&c", "");  // "/search?q=a%20b%26c"
  bool ok = name == "café au lait" && q.get("q") == "a b" && q.get_all("tag").size() == 2 && q.get("empty") == "";
  ok = ok && url == "/search?q=a%20b%26c" && coring::http::parse_query(url.substr(8)).get("q") == "a b&c";
  try {
    coring::http::percent_decode("100%");  // a '%' without two hex digits is refused
    ok = false;
  } catch (const std::invalid_argument&) {
  }
  return ok ? 0 : 1;
}
