// coring's HTTP client against a real nginx (/usr/sbin/nginx) with keepalive_timeout 1s:
// the case of issue 14 — a POST after an idle pause longer than the server's keep-alive
// timeout must not fail. nginx runs unprivileged from a temporary prefix (daemon off,
// master_process off). Hidden ([.][nginx]), run by the meson test 'http_nginx'; exit 77
// when nginx is missing.
#include <catch2/catch.hpp>

#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/time.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
namespace http = coring::http;

extern char** environ;

namespace {

constexpr const char* nginx_path = "/usr/sbin/nginx";

// nginx in the foreground from a temporary prefix; stopped and removed by the destructor.
struct nginx_server {
  std::filesystem::path dir;
  std::uint16_t port = 0;
  pid_t pid = -1;

  nginx_server() {
    dir = std::filesystem::temp_directory_path() / fmt::format("coring-nginx-{}", ::getpid());
    std::filesystem::create_directories(dir / "logs");
    {
      // A free loopback port: bound by the kernel, then handed to nginx.
      auto probe = coring::tcp_listener::bind("127.0.0.1", 0);
      port = probe.local_port();
    }
    std::ofstream(dir / "nginx.conf") << fmt::format(R"(daemon off;
master_process off;
worker_processes 1;
pid {0}/nginx.pid;
error_log {0}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {0}/body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
  keepalive_timeout 1s;
  server {{
    listen 127.0.0.1:{1};
    location / {{ return 200 "nginx says ok\n"; }}
  }}
}}
)", dir.string(), port);
    const std::string prefix = dir.string() + "/", conf = (dir / "nginx.conf").string();
    const char* argv[] = {nginx_path, "-p", prefix.c_str(), "-c", conf.c_str(), nullptr};
    if (::posix_spawn(&pid, nginx_path, nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) pid = -1;
  }
  ~nginx_server() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string url(std::string_view path) const { return fmt::format("http://127.0.0.1:{}{}", port, path); }

  // Waits until nginx accepts connections (bounded: it failed to start otherwise).
  task<> ready() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      bool up = false;
      try {
        coring::tcp_stream s = co_await coring::tcp_stream::connect("127.0.0.1", port);
        up = true;
      } catch (const std::system_error&) {
      }
      if (up) co_return;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        throw std::runtime_error("nginx exited at start; see its error log");
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("nginx did not start within 10 s");
      co_await coring::sleep(10ms);
    }
  }
};

}  // namespace

TEST_CASE("http nginx: a POST after an idle pause longer than keepalive_timeout goes out on a new connection", "[.][nginx]") {
  if (::access(nginx_path, X_OK) != 0) return coring_test::skip("nginx is not installed (/usr/sbin/nginx)");
  coring::run([]() -> task<> {
    nginx_server nginx;
    REQUIRE(nginx.pid > 0);
    co_await nginx.ready();
    http::client c;
    http::response first = co_await c.post(nginx.url("/a"), "one");
    CHECK(first.status == 200);
    CHECK(first.body == "nginx says ok\n");
    CHECK(c.statistics().idle == 1);  // kept alive
    // The one pause the scenario needs: nginx closes the idle connection after 1 s.
    co_await coring::sleep(1500ms);
    http::response second = co_await c.post(nginx.url("/b"), "two");
    CHECK(second.status == 200);
    const http::client_statistics st = c.statistics();
    CHECK(st.stale_closed == 1);        // the closed socket was seen before it was used
    CHECK(st.retries == 0);             // and nothing was sent on it (a POST is never re-sent)
    CHECK(st.connections_opened == 2);
    CHECK(st.requests == 2);
  }());
}
