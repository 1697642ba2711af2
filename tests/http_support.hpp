// Helpers shared by the coring_http test programs: a server around a test body, raw
// socket reads for the tests that speak HTTP by hand, and the shell for the external tools.
// A test program takes them all with `using namespace coring_test;`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <coring/blocking.hpp>
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

// Whether `name` is a command on PATH: a test of an external tool skips without it.
inline bool have_tool(const char* name) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", name).c_str()) == 0;
}

// Runs a shell command on the blocking pool (the loop keeps serving) and returns its stdout.
// (The lambda is named first: g++ 12 destroys a capturing lambda temporary written inside
// a co_await expression twice.)
inline task<std::string> shell(std::string cmd) {
  auto run = [cmd]() {
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      ::pclose(f);
    }
    return out;
  };
  co_return co_await coring::run_blocking(std::move(run));
}

}  // namespace coring_test
