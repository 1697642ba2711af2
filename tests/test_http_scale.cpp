// coring_http at size: 200 MB downloads and uploads (curl, and coring's own client) through a
// coring server run in constant memory. Each test reads the process's peak resident set
// (VmHWM) before and after and asserts it grew by less than 32 MB: a server or client that
// buffered a body would grow by 200 MB. Hidden ([.][big]), run by the meson test
// 'http_big' in suite 'scale'; exit 77 when curl is missing.
#include <catch2/catch.hpp>

#include <coring/blocking.hpp>
#include <coring/http.hpp>
#include <coring/runtime.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "http_support.hpp"
#include "support.hpp"

using namespace coring_test;  // task, http, with_server, url, shell, have_tool

namespace {

constexpr std::uint64_t big = 200ull << 20;
constexpr std::uint64_t allowed_growth_kb = 32 * 1024;

// The peak resident set size of this process so far, in kB.
std::uint64_t peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  throw std::runtime_error("no VmHWM in /proc/self/status");
}

// GET /down: `big` bytes with Content-Length, written 64 KiB at a time.
// PUT|POST /up: counts the body as it arrives and answers with the count.
task<http::response> big_routes(http::request& req, http::body_reader& body) {
  if (req.path() == "/down") {
    co_return http::response::stream(200, [](http::body_writer& w) -> task<> {
      const std::string chunk(64 * 1024, 'd');
      for (std::uint64_t sent = 0; sent < big; sent += chunk.size()) co_await w.write(chunk);
    }, "application/octet-stream", big);
  }
  std::uint64_t n = 0;
  for (;;) {
    const std::string_view piece = co_await body.read();
    if (piece.empty()) break;
    n += piece.size();
  }
  co_return http::response::text(200, std::to_string(n));
}

}  // namespace

TEST_CASE("http big: curl downloads and uploads 200 MB through a coring server in constant memory", "[.][big]") {
  if (!have_tool("curl")) return coring_test::skip("curl is not installed");
  coring::run([]() -> task<> {
    co_await with_server(http::streaming_handler(big_routes), [&](std::uint16_t port) -> task<> {
      co_await shell(fmt::format("curl -s -o /dev/null {}", url(port, "/up")));  // warm up pools and buffers
      const std::uint64_t before = peak_rss_kb();
      const std::string down = co_await shell(fmt::format("curl -s -o /dev/null -w '%{{size_download}}' {}", url(port, "/down")));
      CHECK(down == std::to_string(big));
      // From a pipe: curl sends it chunked.
      const std::string up = co_await shell(fmt::format("head -c {} /dev/zero | curl -s -T - {}", big, url(port, "/up")));
      CHECK(up == std::to_string(big));
      const std::uint64_t after = peak_rss_kb();
      UNSCOPED_INFO("peak RSS before " << before << " kB, after " << after << " kB");
      std::printf("curl 200 MB down + up: server peak RSS %llu kB -> %llu kB (+%llu kB)\n",
                  static_cast<unsigned long long>(before), static_cast<unsigned long long>(after),
                  static_cast<unsigned long long>(after - before));
      CHECK(after - before < allowed_growth_kb);
    });
  }());
}

TEST_CASE("http big: coring's client streams 200 MB down and up (Content-Length) in constant memory", "[.][big]") {
  coring::run([]() -> task<> {
    co_await with_server(http::streaming_handler(big_routes), [&](std::uint16_t port) -> task<> {
      http::client c;
      co_await c.get(url(port, "/up"));  // warm up
      const std::uint64_t before = peak_rss_kb();
      http::streaming_response r = co_await c.stream("GET", url(port, "/down"));
      std::uint64_t got = 0;
      for (;;) {
        const std::string_view piece = co_await r.body().read();
        if (piece.empty()) break;
        got += piece.size();
      }
      CHECK(got == big);
      http::request up("PUT", url(port, "/up"));
      up.body_length = big;
      up.body_stream = [](http::body_writer& w) -> task<> {
        const std::string chunk(64 * 1024, 'u');
        for (std::uint64_t sent = 0; sent < big; sent += chunk.size()) co_await w.write(chunk);
      };
      http::response done = co_await c.send(std::move(up));
      CHECK(done.body == std::to_string(big));
      const std::uint64_t after = peak_rss_kb();
      std::printf("coring client 200 MB down + up: peak RSS %llu kB -> %llu kB (+%llu kB)\n",
                  static_cast<unsigned long long>(before), static_cast<unsigned long long>(after),
                  static_cast<unsigned long long>(after - before));
      CHECK(after - before < allowed_growth_kb);
    });
  }());
}
