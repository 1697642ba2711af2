// coring::http::header_map: ordered fields, names compared ignoring case.
#include <string>

#include <coring/http.hpp>

int main() {
  std::string seen;
  // example-begin
  coring::http::header_map h{{"Accept", "text/plain"}};
  h.set("X-Id", "7");
  if (auto v = h.get("x-id")) seen = *v;  // "7"
  // example-end
  return seen == "7" && h.size() == 2 && h.contains("ACCEPT") ? 0 : 1;
}
