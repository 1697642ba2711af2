// coring::http server: its defences against hostile clients (deadlines for every phase,
// max_connections) and the graceful drain. Each hostile client is written here and talks
// raw bytes over a real loopback socket. Timeouts are configured short (tens of ms); the
// checks are on behaviour and order, never on elapsed time.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fmt/format.h>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "http_support.hpp"

using namespace std::chrono_literals;
using namespace coring_test;  // task, task_group, http, with_server, url, ...

namespace {

task<http::response> hello(const http::request&) { co_return http::response::text(200, "hello\n"); }

// Waits for a server counter: the server has no event for it, and the wait is bounded.
template <class F>
task<> until(F done) {
  co_await coring::with_timeout(10s, [&]() -> task<> {
    while (!done()) co_await coring::sleep(2ms);
  }());
}

// Reads until EOF, counting a reset as the end too (the server cut the connection).
task<std::string> read_to_end(coring::tcp_stream& s) {
  std::string out;
  std::vector<char> buf(64 * 1024);
  try {
    for (;;) {
      const std::size_t n = co_await s.read_some(std::span<char>(buf));
      if (n == 0) break;
      out.append(buf.data(), n);
    }
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::connection_reset) throw;
  }
  co_return out;
}

}  // namespace

TEST_CASE("http limits: a request head trickled one byte at a time is cut at header_timeout") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().header_timeout(100ms).stats(&st);
    co_await with_server(hello, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      // 300 bytes at one per 10 ms would take 3 s; each byte would restart an idle timer.
      const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(260, 'p') + "\r\n\r\n";
      std::size_t sent = 0;
      std::string answer;
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto trickle = tg.spawn([&]() -> task<> {
          try {
            for (char c : head) {
              co_await s.write_all(std::string_view(&c, 1));
              ++sent;
              co_await coring::sleep(10ms);
            }
          } catch (const std::system_error&) {
            // the server closed the connection under us
          }
        });
        answer = co_await read_to_end(s);
        trickle.cancel();
      });
      CHECK(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
      CHECK(sent < head.size());  // cut while the head was still arriving
      CHECK(st.header_timeouts == 1);
      CHECK(st.requests == 0);
    }, opts);
  }());
}

TEST_CASE("http limits: a silent connection is closed at header_timeout") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().header_timeout(50ms).stats(&st);
    co_await with_server(hello, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      const std::string answer = co_await read_to_end(s);
      CHECK(answer.starts_with("HTTP/1.1 408 "));
      CHECK(st.header_timeouts == 1);
    }, opts);
  }());
}

TEST_CASE("http limits: a request body trickled slowly is cut by the body deadline") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().body_timeout(100ms).stats(&st);
    co_await with_server(hello, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
      std::size_t sent = 0;
      std::string answer;
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto trickle = tg.spawn([&]() -> task<> {
          try {
            for (; sent < 1000; ++sent) {
              co_await s.write_all("b");
              co_await coring::sleep(10ms);
            }
          } catch (const std::system_error&) {
          }
        });
        answer = co_await read_to_end(s);
        trickle.cancel();
      });
      CHECK(answer.starts_with("HTTP/1.1 408 "));
      CHECK(sent < 1000);
      CHECK(st.body_timeouts == 1);
      CHECK(st.requests == 0);
    }, opts);
  }());
}

TEST_CASE("http limits: a client that never reads a large response is cut by write_timeout") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    const std::size_t big = std::size_t{48} << 20;  // far more than the socket buffers hold
    auto h = [&](const http::request&) -> task<http::response> { co_return http::response::text(200, std::string(big, 'x')); };
    auto opts = http::server_options().write_timeout(100ms).min_transfer_rate(0).stats(&st);
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await until([&] { return st.write_timeouts == 1; });  // the client reads nothing meanwhile
      CHECK(st.requests == 0);
      const std::string got = co_await read_to_end(s);  // what was buffered, then the end
      CHECK(got.starts_with("HTTP/1.1 200 OK\r\n"));
      CHECK(got.size() < big);
      CHECK(st.open == 0);
    }, opts);
  }());
}

TEST_CASE("http limits: a client that never reads a streamed or a file response is cut by write_timeout") {
  coring::run([]() -> task<> {
    const std::size_t big = std::size_t{32} << 20;  // far more than the socket buffers hold
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("coring-http-limits-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "big.bin").string();
    std::ofstream(path, std::ios::binary) << std::string(big, 'f');
    http::server_statistics st;
    const auto h = [&](const http::request& req) -> task<http::response> {
      // A file is spliced to the socket: the splice into the full socket is what the write
      // deadline cancels (the kernel answered that cancel with ERESTARTSYS, once reported
      // as a handler error).
      if (req.path() == "/file") co_return co_await http::response::file(path, "application/octet-stream");
      co_return http::response::stream(200, [big](http::body_writer& w) -> task<> {
        const std::string piece(64 * 1024, 's');
        for (std::size_t at = 0; at < big; at += piece.size()) co_await w.write(piece);
      }, "application/octet-stream");
    };
    auto opts = http::server_options().write_timeout(100ms).min_transfer_rate(0).stats(&st);
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      std::uint64_t cut = 0;
      for (const char* target : {"/stream", "/file"}) {
        auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
        co_await s.write_all(fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", target));
        ++cut;
        co_await until([&] { return st.write_timeouts == cut; });  // the client reads nothing meanwhile
        const std::string got = co_await read_to_end(s);  // what was buffered, then the end
        CHECK(got.starts_with("HTTP/1.1 200 OK\r\n"));
        CHECK(got.size() < big);
      }
      CHECK(st.handler_errors == 0);
      CHECK(st.open == 0);
    }, opts);
    std::filesystem::remove_all(dir);
  }());
}

TEST_CASE("http limits: a keep-alive connection is closed after idle_timeout") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().idle_timeout(50ms).stats(&st);
    co_await with_server(hello, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      const std::string answer = co_await read_to_end(s);  // the response, then EOF, no 408
      CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
      CHECK(answer.ends_with("\r\n\r\nhello\n"));
      CHECK(st.idle_timeouts == 1);
      CHECK(st.header_timeouts == 0);
    }, opts);
  }());
}

TEST_CASE("http limits: connections beyond max_connections are not accepted until one closes") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().max_connections(2).stats(&st);
    co_await with_server(hello, [&](std::uint16_t port) -> task<> {
      const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      auto a = co_await coring::tcp_stream::connect("127.0.0.1", port);
      auto b = co_await coring::tcp_stream::connect("127.0.0.1", port);
      for (auto* s : {&a, &b}) {
        co_await s->write_all(get);
        const std::string r = co_await read_until(*s, "hello\n");
        CHECK(r.starts_with("HTTP/1.1 200 OK\r\n"));
      }
      // The third connection is made by the kernel, but the server does not take it.
      auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await c.write_all(get);
      char byte;
      auto early = co_await coring::move_on_after(200ms, c.read_some(&byte, 1));
      CHECK_FALSE(early.has_value());
      CHECK(st.connections == 2);
      CHECK(st.accept_waits >= 1);
      co_await a.close();  // frees a slot: now the third is accepted and answered
      const std::string r = co_await read_until(c, "hello\n");
      CHECK(r.starts_with("HTTP/1.1 200 OK\r\n"));
      CHECK(st.connections == 3);
    }, opts);
  }());
}

TEST_CASE("http limits: invalid server options are refused with invalid_argument") {
  coring::run([]() -> task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto zero_conns = http::server_options().max_connections(0);
    REQUIRE_THROWS_AS(co_await http::serve(l, hello, zero_conns), std::invalid_argument);
    auto zero_timeout = http::server_options().header_timeout(0ms);
    try {
      co_await http::serve(l, hello, zero_timeout);
      FAIL("a zero header_timeout was accepted");
    } catch (const std::invalid_argument& e) {
      CHECK_THAT(e.what(), Catch::Contains("header_timeout"));
    }
  }());
  http::server_control ctl;
  CHECK_THROWS_AS(ctl.drain(-1ms), std::invalid_argument);
}

TEST_CASE("http drain: a request in flight gets its full response with Connection: close") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    http::server_control ctl;
    coring::event entered, release;
    auto h = [&](const http::request& req) -> task<http::response> {
      if (req.path() == "/slow") {
        entered.set();
        co_await release.wait();
      }
      co_return http::response::text(200, "done " + std::string(req.path()));
    };
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    const auto port = l.local_port();
    auto opts = http::server_options().control(&ctl).stats(&st);
    bool serve_returned = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        co_await http::serve(l, h, opts);
        serve_returned = true;
      });
      // An idle keep-alive connection, a silent one, and one with a request in flight.
      auto idle = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await idle.write_all("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await read_until(idle, "done /quick");
      auto silent = co_await coring::tcp_stream::connect("127.0.0.1", port);
      auto busy = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await busy.write_all("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await entered.wait();
      co_await until([&] { return st.open == 3; });

      ctl.drain(10s);
      CHECK(ctl.draining());
      // Idle connections close at once, while the slow request is still running.
      const std::string idle_rest = co_await read_to_end(idle);
      const std::string silent_rest = co_await read_to_end(silent);
      CHECK(idle_rest.empty());
      CHECK(silent_rest.empty());
      CHECK_FALSE(serve_returned);
      release.set();
      const std::string answer = co_await read_to_end(busy);
      CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
      CHECK(answer.find("Connection: close\r\n") != std::string::npos);
      CHECK(answer.ends_with("\r\n\r\ndone /slow"));
    });
    CHECK(serve_returned);
    CHECK(st.requests == 2);
    CHECK(st.drain_cancelled == 0);
    CHECK(st.open == 0);
    CHECK(l.is_open());  // the listener is the caller's
  }());
}

TEST_CASE("http drain: what is still running at the deadline is cancelled") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    http::server_control ctl;
    coring::event entered;
    bool handler_cancelled = false;
    auto h = [&](const http::request&) -> task<http::response> {
      entered.set();
      try {
        co_await coring::sleep(1h);
      } catch (const coring::cancelled&) {
        handler_cancelled = true;
        throw;
      }
      co_return http::response::text(200, "never");
    };
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto opts = http::server_options().control(&ctl).stats(&st);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn(http::serve(l, h, opts), "server");
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
      co_await s.write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await entered.wait();
      ctl.drain(30ms);
      const std::string rest = co_await read_to_end(s);
      CHECK(rest.empty());  // closed without an answer
    });
    CHECK(handler_cancelled);
    CHECK(st.drain_cancelled == 1);
    CHECK(st.open == 0);
  }());
}

TEST_CASE("http drain: serve started with a draining control returns at once") {
  coring::run([]() -> task<> {
    http::server_control ctl;
    ctl.drain(0ms);
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto opts = http::server_options().control(&ctl);
    co_await http::serve(l, hello, opts);
    CHECK(ctl.draining());
  }());
}

TEST_CASE("http: options built inside the co_await expression are safe") {
  // The aggregate form of this call (`{.stats = &st}`) was destroyed twice by g++ 12; the
  // option class is built by a constructor and copied once into serve().
  coring::run([]() -> task<> {
    http::server_statistics st;
    http::server_control ctl;
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    const auto port = l.local_port();
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        co_await http::serve(l, hello, http::server_options().stats(&st).control(&ctl).server_name("inline"));
      });
      http::client c(http::client_options().max_connections(1).user_agent("t"));
      http::response r = co_await c.get(url(port, "/"));
      CHECK(r.headers.get("Server") == "inline");
      ctl.drain(1s);
    });
    CHECK(st.requests == 1);
  }());
}
