// Parsing addresses, telling a host name from a numeric address, and resolving.
#include <coring/endpoint.hpp>
#include <coring/runtime.hpp>

#include <vector>

coring::task<int> example() {
  // example-begin
  const auto a = coring::endpoint::parse("127.0.0.1", 8080);
  const auto b = coring::endpoint::parse("[::1]:8080");
  const bool text_ok = a.to_string() == "127.0.0.1:8080" && b.to_string() == "[::1]:8080";
  coring::endpoint c;
  const bool is_name = !coring::endpoint::try_parse("example.org", 80, c);  // a name: resolve it
  const std::vector<coring::endpoint> eps = co_await coring::resolve("127.0.0.1", 80);
  // example-end
  co_return text_ok && is_name && eps.size() == 1 && eps[0] == coring::endpoint::parse("127.0.0.1", 80) ? 0 : 1;
}

int main() { return coring::run(example()); }
