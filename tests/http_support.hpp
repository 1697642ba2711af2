// Helpers shared by the coring_http test programs: a server around a test body, and raw
// socket reads for the tests that speak HTTP by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/task_group.hpp>

namespace coring_test {

using coring::task;
using coring::task_group;
namespace http = coring::http;

// Runs body(port) while an HTTP server answers with `h` on 127.0.0.1:port, then cancels
// the server.
// (Options go in as a named variable or the two-argument form: g++ 12 double-destroys an
// aggregate temporary inside a co_await expression.)
// H is a http::handler, a http::streaming_handler, a router, or a function either accepts.
template <class H, class F>
task<> with_server(H h, F body, http::server_options opts) {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::uint16_t port = l.local_port();
  co_await coring::with_task_group([&](task_group& tg) -> task<> {
    auto srv = tg.spawn(http::serve(l, h, opts), "server");
    co_await body(port);
    srv.cancel();
  });
}
template <class H, class F>
task<> with_server(H h, F body) {
  return with_server(std::move(h), std::move(body), http::server_options());
}

inline std::string url(std::uint16_t port, std::string_view path) { return fmt::format("http://127.0.0.1:{}{}", port, path); }

// Reads until the peer closes (or 1 MiB).
inline task<std::string> read_all(coring::tcp_stream& s) {
  std::string out;
  char buf[4096];
  for (;;) {
    const std::size_t n = co_await s.read_some(std::span<char>(buf));
    if (n == 0 || out.size() > (1u << 20)) break;
    out.append(buf, n);
  }
  co_return out;
}

// Reads until `marker` has arrived.
inline task<std::string> read_until(coring::tcp_stream& s, std::string_view marker) {
  std::string out;
  char buf[4096];
  while (out.find(marker) == std::string::npos) {
    const std::size_t n = co_await s.read_some(std::span<char>(buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  co_return out;
}


}  // namespace coring_test
