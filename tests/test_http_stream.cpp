// coring::http streaming bodies (both directions, backpressure, cancellation, limits), file
// responses, the router, and the URL helpers.
#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/fd.hpp>
#include <coring/file.hpp>
#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#if __has_include(<zlib.h>)
#include <zlib.h>
#define TEST_HAVE_ZLIB 1
#endif

#include "http_support.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace coring_test;  // task, task_group, http, with_server, url, ...

namespace {

// A byte pattern that makes misplaced or lost bytes visible.
char pattern_byte(std::uint64_t i) { return static_cast<char>('a' + (i * 7 + i / 251) % 26); }

std::string pattern(std::uint64_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = pattern_byte(from + i);
  return s;
}

// Writes `total` pattern bytes in pieces of `piece`.
http::body_producer pattern_producer(std::uint64_t total, std::size_t piece = 64 * 1024) {
  return [total, piece](http::body_writer& w) -> task<> {
    for (std::uint64_t at = 0; at < total;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(piece, total - at));
      const std::string chunk = pattern(at, n);
      co_await w.write(chunk);
      at += n;
    }
  };
}

// What a streaming handler learned about a request body.
struct upload_seen {
  std::uint64_t bytes = 0;
  std::size_t pieces = 0;
  bool intact = true;
  std::optional<std::uint64_t> length;
};

// Reads a request body piece by piece and checks it against the pattern.
task<http::response> count_upload(http::request&, http::body_reader& body, upload_seen& seen) {
  seen.length = body.content_length();
  for (;;) {
    const std::string_view piece = co_await body.read();
    if (piece.empty()) break;
    for (std::size_t i = 0; i < piece.size(); ++i)
      if (piece[i] != pattern_byte(seen.bytes + i)) seen.intact = false;
    seen.bytes += piece.size();
    ++seen.pieces;
  }
  co_return http::response::text(200, std::to_string(seen.bytes));
}

}  // namespace

TEST_CASE("http stream: a streaming handler reads a chunked upload piece by piece, in order") {
  coring::run([]() -> task<> {
    upload_seen seen;
    http::streaming_handler h = [&seen](http::request& req, http::body_reader& body) { return count_upload(req, body, seen); };
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      http::client c;
      http::request up("POST", url(port, "/up"));
      up.body_stream = pattern_producer(5 << 20);  // no body_length: chunked
      http::response r = co_await c.send(std::move(up));
      CHECK(r.status == 200);
      CHECK(r.body == std::to_string(5 << 20));
    });
    CHECK(seen.bytes == (5u << 20));
    CHECK(seen.intact);
    CHECK(seen.pieces > 10);  // incremental, not one buffered piece
    CHECK_FALSE(seen.length.has_value());
  }());
}

TEST_CASE("http stream: an upload with body_length goes out with Content-Length") {
  coring::run([]() -> task<> {
    upload_seen seen, ignored;
    std::string framing;
    http::streaming_handler h = [&](http::request& req, http::body_reader& body) {
      if (req.path() == "/bad") return count_upload(req, body, ignored);
      framing = std::string(req.headers.get("Content-Length").value_or("none")) + "/" +
                std::string(req.headers.get("Transfer-Encoding").value_or("none"));
      return count_upload(req, body, seen);
    };
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      http::client c;
      http::request up("PUT", url(port, "/up"));
      up.body_length = 1000000;
      up.body_stream = pattern_producer(1000000, 10000);
      http::response r = co_await c.send(std::move(up));
      CHECK(r.status == 200);
      // A producer that writes less than it announced fails, and the socket is not reused.
      http::request bad("PUT", url(port, "/bad"));
      bad.body_length = 10;
      bad.body_stream = pattern_producer(5);
      REQUIRE_THROWS_AS(co_await c.send(std::move(bad)), std::logic_error);
      CHECK(c.statistics().in_use == 0);
    });
    CHECK(framing == "1000000/none");
    CHECK(seen.length == 1000000u);
    CHECK(seen.intact);
  }());
}

TEST_CASE("http stream: a producer's response is chunked, or has Content-Length when announced, and reads back piece by piece") {
  coring::run([]() -> task<> {
    const auto h = [](const http::request& req) -> task<http::response> {
      const bool sized = req.path() == "/sized";
      co_return http::response::stream(200, pattern_producer(3 << 20), "application/octet-stream",
                                       sized ? std::optional<std::uint64_t>(3 << 20) : std::nullopt);
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      for (const char* path : {"/chunked", "/sized"}) {
        http::streaming_response r = co_await c.stream("GET", url(port, path));
        CHECK(r.status == 200);
        const bool sized = std::string_view(path) == "/sized";
        CHECK(r.headers.contains("Transfer-Encoding") == !sized);
        CHECK(r.headers.get("Content-Length") == (sized ? std::optional<std::string_view>("3145728") : std::nullopt));
        CHECK(r.body().content_length() == (sized ? std::optional<std::uint64_t>(3 << 20) : std::nullopt));
        std::uint64_t got = 0;
        std::size_t pieces = 0;
        bool intact = true;
        for (;;) {
          const std::string_view piece = co_await r.body().read();
          if (piece.empty()) break;
          if (piece != pattern(got, piece.size())) intact = false;
          got += piece.size();
          ++pieces;
        }
        CHECK(got == (3u << 20));
        CHECK(intact);
        CHECK(pieces > 10);
        CHECK(r.body().done());
        CHECK(c.statistics().in_use == 0);  // read to its end: the socket is back in the pool
        CHECK(c.statistics().idle == 1);
      }
      // The whole-body API reads the same response.
      http::response whole = co_await c.get(url(port, "/chunked"));
      CHECK(whole.body == pattern(0, 3 << 20));
      CHECK(c.statistics().connections_opened == 1);
      // HEAD: the head only, with the announced length.
      http::response head = co_await c.request("HEAD", url(port, "/sized"));
      CHECK(head.body.empty());
      CHECK(head.headers.get("Content-Length") == "3145728");
    });
  }());
}

TEST_CASE("http stream: a producer runs no further ahead of the reader than the socket buffers") {
  coring::run([]() -> task<> {
    std::uint64_t produced = 0;
    static constexpr std::uint64_t total = 64 << 20;
    const auto h = [&produced](const http::request&) -> task<http::response> {
      co_return http::response::stream(200, [&produced](http::body_writer& w) -> task<> {
        const std::string chunk(64 * 1024, 'x');
        while (produced < total) {
          co_await w.write(chunk);
          produced += chunk.size();
        }
      }, "application/octet-stream", total);
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::streaming_response r = co_await c.stream("GET", url(port, "/"));
      std::uint64_t got = 0, worst_lead = 0;
      for (;;) {
        const std::string_view piece = co_await r.body().read();
        if (piece.empty()) break;
        got += piece.size();
        worst_lead = std::max(worst_lead, produced - std::min(produced, got));
        co_await coring::checkpoint();  // the producer gets its turns: only the socket holds it back
      }
      CHECK(got == total);
      // Without backpressure the producer would finish (64 MiB ahead) before the first read.
      CHECK(worst_lead < (24u << 20));
    });
  }());
}

TEST_CASE("http stream: cancelling the server mid-stream cancels the producer and frees everything") {
  coring::run([]() -> task<> {
    http::default_client().close_idle();
    const std::size_t fds_before = open_fds();
    int alive = 0;  // producers running (an RAII guard in each)
    bool producer_cancelled = false;
    struct guard {
      int& n;
      explicit guard(int& c) : n(c) { ++n; }
      ~guard() { --n; }
    };
    {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      const auto port = l.local_port();
      const auto h = [&](const http::request&) -> task<http::response> {
        co_return http::response::stream(200, [&](http::body_writer& w) -> task<> {
          guard g(alive);
          const std::string chunk(64 * 1024, 'x');
          try {
            for (;;) co_await w.write(chunk);  // endless
          } catch (const coring::cancelled&) {
            producer_cancelled = true;
            throw;
          }
        }, "text/plain");
      };
      http::client c;
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto srv = tg.spawn(http::serve(l, http::handler(h)), "server");
        http::streaming_response r = co_await c.stream("GET", url(port, "/"));
        // (Awaits stay out of CHECK: g++ 12 also evaluates an await in Catch's unevaluated branch.)
        for (int i = 0; i < 20; ++i) {
          const std::string_view piece = co_await r.body().read();
          CHECK_FALSE(piece.empty());
        }
        CHECK(alive == 1);
        srv.cancel();
        co_await coring_test::eventually([&] { return alive == 0; }, "the producer ended");
        // The client sees the body end early: a truncated chunked body is a protocol_error.
        bool truncated = false;
        try {
          for (;;)
            if ((co_await r.body().read()).empty()) break;
        } catch (const http::protocol_error&) {
          truncated = true;
        }
        CHECK(truncated);
      });
      CHECK(c.statistics().in_use == 0);
      CHECK(c.statistics().idle == 0);
    }
    CHECK(producer_cancelled);
    CHECK(alive == 0);
    CHECK(open_fds() == fds_before);
  }());
}

TEST_CASE("http stream: cancelling a handler in the middle of reading an upload frees everything") {
  coring::run([]() -> task<> {
    const std::size_t fds_before = open_fds();
    std::uint64_t read_bytes = 0;
    bool handler_cancelled = false;
    coring::event half_read;
    {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      const auto port = l.local_port();
      http::streaming_handler h = [&](http::request&, http::body_reader& body) -> task<http::response> {
        try {
          for (;;) {
            const std::string_view piece = co_await body.read();
            if (piece.empty()) break;
            read_bytes += piece.size();
            if (read_bytes > (1 << 20)) half_read.set();
          }
        } catch (const coring::cancelled&) {
          handler_cancelled = true;
          throw;
        }
        co_return http::response::text(200, "done");
      };
      http::client c;
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto srv = tg.spawn(http::serve(l, h), "server");
        // (Named first: a capturing lambda temporary called in place dies before its task runs.)
        const auto upload_body = [&]() -> task<> {
          http::request up("POST", url(port, "/"));
          up.body_stream = [](http::body_writer& w) -> task<> {
            const std::string chunk(64 * 1024, 'u');
            for (;;) co_await w.write(chunk);  // endless
          };
          try {
            co_await c.send(std::move(up));
          } catch (const std::system_error&) {
            // the server went away mid-upload
          } catch (const http::protocol_error&) {
          }
        };
        auto upload = tg.spawn(upload_body(), "upload");
        co_await half_read.wait();
        srv.cancel();
        co_await upload;
      });
      CHECK(c.statistics().in_use == 0);
    }
    CHECK(handler_cancelled);
    CHECK(read_bytes > (1u << 20));
    CHECK(open_fds() == fds_before);
  }());
}

TEST_CASE("http stream: a cancelled body read closes the client's socket instead of pooling it") {
  coring::run([]() -> task<> {
    const auto h = [](const http::request&) -> task<http::response> {
      co_return http::response::stream(200, [](http::body_writer& w) -> task<> {
        co_await w.write("first");
        co_await coring::sleep(30s);
        co_await w.write("late");
      }, "text/plain");
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      {
        http::streaming_response r = co_await c.stream("GET", url(port, "/"));
        const std::string first(co_await r.body().read());
        CHECK(first == "first");
        auto late = co_await coring::move_on_after(20ms, r.body().read());
        CHECK_FALSE(late.has_value());
        REQUIRE_THROWS_AS(co_await r.body().read(), std::logic_error);  // the body is unreadable now
        CHECK(c.statistics().in_use == 1);
      }
      CHECK(c.statistics().in_use == 0);
      CHECK(c.statistics().idle == 0);
    });
  }());
}

TEST_CASE("http stream: whole-body reads keep their limit: 413 on the server, body_too_large on the client") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().max_body_size(100000).stats(&st);
    const auto h = [](const http::request& req) -> task<http::response> {
      if (req.path() == "/big") co_return http::response::stream(200, pattern_producer(200000), "text/plain");
      co_return http::response::text(200, std::to_string(req.body.size()));
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::request up("POST", url(port, "/up"));
      up.body_stream = pattern_producer(300000, 1000);  // chunked: no Content-Length to check first
      bool refused = false;
      try {
        http::response r = co_await c.send(std::move(up));
        refused = r.status == 413;
      } catch (const std::system_error&) {
        refused = true;  // the server closed while we were still sending
      }
      CHECK(refused);
      http::client small(http::client_options().max_body_size(150000));
      try {
        co_await small.get(url(port, "/big"));
        FAIL("a body over max_body_size was accepted");
      } catch (const http::body_too_large& e) {
        CHECK_THAT(e.what(), Catch::Contains("150000") && Catch::Contains("stream"));
      }
      // Streaming has no limit.
      http::streaming_response r = co_await small.stream("GET", url(port, "/big"));
      std::uint64_t n = 0;
      for (;;) {
        const std::string_view piece = co_await r.body().read();
        if (piece.empty()) break;
        n += piece.size();
      }
      CHECK(n == 200000);
    }, opts);
    CHECK(st.bad_requests == 1);
  }());
}

TEST_CASE("http stream: a body the handler leaves unread is skipped when buffered, else the connection closes") {
  coring::run([]() -> task<> {
    http::streaming_handler h = [](http::request&, http::body_reader&) -> task<http::response> {
      co_return http::response::text(200, "ignored your body\n");
    };
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      http::client c;
      http::response small = co_await c.post(url(port, "/"), "tiny");
      CHECK(small.status == 200);
      CHECK_FALSE(small.headers.contains("Connection"));
      http::response again = co_await c.post(url(port, "/"), "tiny");
      CHECK(again.status == 200);
      CHECK(c.statistics().connections_opened == 1);
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nonly the start");
      const std::string answer = co_await read_until(s, "body\n");
      CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
      CHECK(answer.find("Connection: close") != std::string::npos);
    });
  }());
}

TEST_CASE("http stream: Expect 100-continue is answered at the first read, and not at all for a refused body") {
  coring::run([]() -> task<> {
    auto opts = http::server_options().max_body_size(10);
    const auto h = [](const http::request& req) -> task<http::response> { co_return http::response::text(200, req.body); };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n");
      const std::string answer = co_await read_all(s);
      CHECK(answer.rfind("HTTP/1.1 413 ", 0) == 0);
      CHECK(answer.find("100 Continue") == std::string::npos);
    }, opts);
  }());
}

TEST_CASE("http stream: a producer that fails before writing gets 500; after, the connection is cut") {
  coring::run([]() -> task<> {
    http::server_statistics st;
    auto opts = http::server_options().stats(&st);
    const auto h = [](const http::request& req) -> task<http::response> {
      const bool late = req.path() == "/late";
      co_return http::response::stream(200, [late](http::body_writer& w) -> task<> {
        if (late) co_await w.write("part of it");
        throw std::runtime_error("producer failed");
      }, "text/plain");
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::response early = co_await c.get(url(port, "/early"));
      CHECK(early.status == 500);
      REQUIRE_THROWS_AS(co_await c.get(url(port, "/late")), http::protocol_error);
    }, opts);
    CHECK(st.handler_errors == 2);
  }());
}

TEST_CASE("http stream: a file response is spliced from the file with its Content-Length") {
  coring::run([]() -> task<> {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("coring-http-file-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "data.bin").string();
    const std::string content = pattern(0, (1 << 20) + 12345);
    std::ofstream(path, std::ios::binary) << content;
    const auto h = [path](const http::request& req) -> task<http::response> {
      if (req.path() == "/missing") co_return co_await http::response::file(path + ".nope", "text/plain");
      co_return co_await http::response::file(path, "application/octet-stream");
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::response r = co_await c.get(url(port, "/"));
      CHECK(r.status == 200);
      CHECK(r.headers.get("Content-Length") == std::to_string(content.size()));
      CHECK(r.body == content);
      http::response missing = co_await c.get(url(port, "/missing"));  // open failed in the handler
      CHECK(missing.status == 500);
    });
    std::filesystem::remove_all(dir);
  }());
}

TEST_CASE("http stream: coring::splice moves file bytes through a pipe") {
  coring::run([]() -> task<> {
    const auto path = std::filesystem::temp_directory_path() / fmt::format("coring-splice-{}", ::getpid());
    std::ofstream(path) << "0123456789";
    coring::file f = co_await coring::file::open(path.string());
    coring_test::pipe_pair p;
    const std::size_t n = co_await coring::splice(f.native_handle(), 3, p.w, -1, 4);
    CHECK(n == 4);
    char buf[8] = {};
    CHECK(::read(p.r, buf, sizeof buf) == 4);
    CHECK(std::string_view(buf, 4) == "3456");
    const std::size_t at_end = co_await coring::splice(f.native_handle(), 10, p.w, -1, 4);
    CHECK(at_end == 0);  // end of file
    REQUIRE_THROWS_AS(co_await coring::splice(f.native_handle(), 0, f.native_handle(), 0, 4), std::system_error);
    co_await f.close();
    std::filesystem::remove(path);
  }());
}

// ---- router ----

namespace {

task<http::response> show_params(const http::request& req) {
  std::string out = req.method;
  for (const auto& [k, v] : req.params) out += fmt::format(" {}={}", k, v);
  co_return http::response::text(200, out);
}

http::router test_router() {
  http::router rt;
  rt.route("GET", "/users/{id}", show_params)
      .route("PUT", "/users/{id}", show_params)
      .route("GET", "/users/{id}/files/{name}", show_params)
      .route("GET", "/static/{path...}", show_params)
      .route("POST", "/upload", show_params)
      .route("GET", "/", show_params);
  return rt;
}

}  // namespace

TEST_CASE("http router: a route's parameters reach the handler percent-decoded") {
  coring::run([]() -> task<> {
    co_await with_server(test_router(), [&](std::uint16_t port) -> task<> {
      http::client c;
      const auto body_of = [&](std::string method, std::string path) -> task<std::string> {
        std::string body = method == "POST" ? "data" : "";
        http::response r = co_await c.request(std::move(method), url(port, path), {}, std::move(body));
        co_return r.body;
      };
      // (Awaits stay out of CHECK: g++ 12 also evaluates an await in Catch's unevaluated branch.)
      std::vector<std::string> got;
      for (const char* p : {"/users/7", "/users/7/files/x%2Fy", "/static/css/site.css", "/static/", "/"})
        got.push_back(co_await body_of("GET", p));
      got.push_back(co_await body_of("PUT", "/users/a%20b"));
      got.push_back(co_await body_of("POST", "/upload"));
      CHECK(got == std::vector<std::string>{"GET id=7", "GET id=7 name=x/y", "GET path=css/site.css", "GET path=",
                                            "GET", "PUT id=a b", "POST"});
    });
  }());
}

TEST_CASE("http router: a path no route matches is 404") {
  coring::run([]() -> task<> {
    co_await with_server(test_router(), [&](std::uint16_t port) -> task<> {
      http::client c;
      for (const char* p : {"/nope", "/users", "/users/", "/users/7/extra", "/users/7/files"}) {
        http::response r = co_await c.get(url(port, p));
        CHECK(r.status == 404);
        CHECK_FALSE(r.headers.contains("Allow"));
      }
    });
  }());
}

TEST_CASE("http router: a path matched only with other methods is 405 with an Allow header listing them") {
  coring::run([]() -> task<> {
    co_await with_server(test_router(), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::response r = co_await c.request("DELETE", url(port, "/users/7"));
      CHECK(r.status == 405);
      CHECK(r.headers.get("Allow") == "GET, HEAD, PUT");
      http::response up = co_await c.get(url(port, "/upload"));
      CHECK(up.status == 405);
      CHECK(up.headers.get("Allow") == "POST");
      http::response head = co_await c.request("HEAD", url(port, "/users/7"));  // GET answers HEAD
      CHECK(head.status == 200);
      CHECK(head.body.empty());
    });
  }());
}

TEST_CASE("http router: a malformed escape in the path is 400") {
  coring::run([]() -> task<> {
    co_await with_server(test_router(), [&](std::uint16_t port) -> task<> {
      http::client c;
      http::response r = co_await c.get(url(port, "/users/%zz"));
      CHECK(r.status == 400);
      CHECK_THAT(r.body, Catch::Contains("two hex digits"));
    });
  }());
}

TEST_CASE("http router: streaming routes read their own body") {
  coring::run([]() -> task<> {
    upload_seen seen;
    http::router rt;
    rt.route("PUT", "/blob/{name}", http::streaming_handler([&seen](http::request& req, http::body_reader& body) {
      return count_upload(req, body, seen);
    }));
    co_await with_server(rt, [&](std::uint16_t port) -> task<> {
      http::client c;
      http::request up("PUT", url(port, "/blob/x"));
      up.body_stream = pattern_producer(1 << 20);
      http::response r = co_await c.send(std::move(up));
      CHECK(r.body == std::to_string(1 << 20));
    });
    CHECK(seen.intact);
    CHECK(seen.bytes == (1u << 20));
  }());
}

TEST_CASE("http router: bad patterns are refused with invalid_argument naming them") {
  http::router rt;
  const http::handler h = show_params;
  CHECK_THROWS_WITH(rt.route("GET", "users", h), Catch::Contains("'users'") && Catch::Contains("'/'"));
  CHECK_THROWS_WITH(rt.route("GET", "/a/{", h), Catch::Contains("whole segment"));
  CHECK_THROWS_WITH(rt.route("GET", "/a/x{id}", h), Catch::Contains("whole segment"));
  CHECK_THROWS_WITH(rt.route("GET", "/a/{}", h), Catch::Contains("without a name"));
  CHECK_THROWS_WITH(rt.route("GET", "/{id}/{id}", h), Catch::Contains("twice"));
  CHECK_THROWS_WITH(rt.route("GET", "/{rest...}/x", h), Catch::Contains("must be last"));
  CHECK_THROWS_WITH(rt.route("GE T", "/x", h), Catch::Contains("token"));
  CHECK_THROWS_AS(rt.route("GET", "/x", http::handler()), std::invalid_argument);
}

// ---- URL helpers ----

TEST_CASE("http url: percent_decode decodes escapes and refuses malformed ones") {
  CHECK(http::percent_decode("caf%C3%A9%20au%20lait") == "café au lait");
  CHECK(http::percent_decode("a+b") == "a+b");
  CHECK(http::percent_decode("a+b", true) == "a b");
  CHECK(http::percent_decode("%2f%2F") == "//");
  CHECK(http::percent_decode("%00").size() == 1);
  CHECK(http::percent_decode("") == "");
  CHECK_THROWS_WITH(http::percent_decode("50%"), Catch::Contains("offset 2") && Catch::Contains("%25"));
  CHECK_THROWS_AS(http::percent_decode("%2"), std::invalid_argument);
  CHECK_THROWS_AS(http::percent_decode("%zz"), std::invalid_argument);
  CHECK_THROWS_AS(http::percent_decode("%g0"), std::invalid_argument);
  CHECK(http::percent_encode("a b/c?d=é") == "a%20b/c%3Fd%3D%C3%A9");
  CHECK(http::percent_encode("a/b", "") == "a%2Fb");
  CHECK(http::percent_decode(http::percent_encode("any \x01 bytes %+&=")) == "any \x01 bytes %+&=");
}

TEST_CASE("http url: parse_query splits pairs, decodes them and keeps duplicates in order") {
  const http::param_map q = http::parse_query("q=a+b&tag=x&tag=y&empty&=v&&k=%3D1");
  CHECK(q.get("q") == "a b");
  CHECK(q.get_all("tag") == std::vector<std::string>{"x", "y"});
  CHECK(q.get("empty") == "");
  CHECK(q.get("") == "v");
  CHECK(q.get("k") == "=1");
  CHECK_FALSE(q.contains("Q"));  // names are case-sensitive
  CHECK(q.size() == 6);
  CHECK(http::parse_query("").empty());
  CHECK_THROWS_AS(http::parse_query("a=%"), std::invalid_argument);
  http::request r("GET", "http://h:1/p?x=1&y=%41#frag");
  CHECK(r.query_params().get("y") == "A");
}

// ---- gzip ----

#ifdef TEST_HAVE_ZLIB
namespace {

std::string gzip(std::string_view data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("http gzip: the client asks for gzip only when decompress is on, and decodes it") {
  if (!http::gzip_supported()) {
    CHECK_THROWS_AS(http::client(http::client_options().decompress(true)), std::invalid_argument);
    return;
  }
  coring::run([]() -> task<> {
    const std::string text = pattern(0, 300000);
    const std::string packed = gzip(text);
    const auto h = [&](const http::request& req) -> task<http::response> {
      const bool wants = req.headers.get("Accept-Encoding") == "gzip";
      if (req.path() == "/corrupt") {
        auto r = http::response::with_body(200, packed.substr(0, packed.size() / 2) + "garbage-garbage", "text/plain");
        r.headers.set("Content-Encoding", "gzip");
        co_return r;
      }
      if (!wants) co_return http::response::text(200, text);
      auto r = http::response::with_body(200, packed, "text/plain");
      r.headers.set("Content-Encoding", "gzip");
      co_return r;
    };
    co_await with_server(http::handler(h), [&](std::uint16_t port) -> task<> {
      http::client plain;
      http::response p = co_await plain.get(url(port, "/"));
      CHECK_FALSE(p.headers.contains("Content-Encoding"));  // not asked for, not sent
      CHECK(p.body == text);
      http::client zc(http::client_options().decompress(true));
      http::response z = co_await zc.get(url(port, "/"));
      CHECK(z.headers.get("Content-Encoding") == "gzip");
      CHECK(z.body == text);
      http::streaming_response s = co_await zc.stream("GET", url(port, "/"));
      std::string streamed;
      for (;;) {
        const std::string_view piece = co_await s.body().read();
        if (piece.empty()) break;
        streamed.append(piece);
      }
      CHECK(streamed == text);
      REQUIRE_THROWS_AS(co_await zc.get(url(port, "/corrupt")), http::protocol_error);
      http::client bounded(http::client_options().decompress(true).max_body_size(1000));
      REQUIRE_THROWS_AS(co_await bounded.get(url(port, "/")), http::body_too_large);  // the decoded size counts
    });
  }());
}
#endif
