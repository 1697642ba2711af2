// coring::http server: RFC 9112 strictness. Each rule sends raw bytes over a real loopback
// socket to the real server and checks the status it answers, that it closed the
// connection after an error, and that no refused request reached the handler.
#include <catch2/catch.hpp>

#include <coring/http.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>

#include <string>
#include <vector>

#include "http_support.hpp"
#include "support.hpp"

using namespace coring_test;  // task, task_group, http, with_server, read_all, ...

namespace {

struct outcome {
  std::string answer;                // every byte the server sent until it closed
  std::vector<std::string> handled;  // the targets the handler saw, in order
  std::string last_body;
  std::string last_trailer;          // the X-Trailer header the handler saw, if any
};

int status_of(std::string_view answer) {
  if (answer.size() < 12 || !answer.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(std::string(answer.substr(9, 3)));
}

task<http::response> answer_for(const http::request& req) {
  if (req.path() == "/204") co_return http::response::text(204, "must not be sent");
  if (req.path() == "/304") co_return http::response::text(304, "must not be sent");
  if (req.path() == "/framing") {
    // The handler tries to frame the body itself; the server replaces both fields.
    auto r = http::response::text(200, "abc");
    r.headers.set("Transfer-Encoding", "chunked");
    r.headers.set("Content-Length", "999");
    co_return r;
  }
  co_return http::response::text(200, "ok:" + req.body);
}

// For the client's side of the rules: runs body(port) while a server on 127.0.0.1:port
// answers each connection with the next of `answers`, byte for byte, once the request head
// has arrived, and closes it; it ends after the last answer.
template <class F>
task<> with_answers(const std::vector<std::string>& answers, F body) {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  co_await coring::with_task_group([&](task_group& tg) -> task<> {
    tg.spawn([&]() -> task<> {
      for (const std::string& a : answers) {
        coring::tcp_stream s = co_await l.accept();
        co_await read_until(s, "\r\n\r\n");
        co_await s.write_all(a);
        co_await s.close();
      }
    });
    co_await body(l.local_port());
  });
}

// Sends `raw` on one connection to a fresh coring server and records what came back.
outcome ask(std::string raw, http::server_options opts = http::server_options()) {
  outcome out;
  coring::run([&]() -> task<> {
    auto h = [&](const http::request& req) -> task<http::response> {
      out.handled.push_back(req.target);
      out.last_body = req.body;
      out.last_trailer = std::string(req.headers.get("X-Trailer").value_or(""));
      return answer_for(req);
    };
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      co_await s.write_all(raw);
      out.answer = co_await read_all(s);  // returns when the server closed the connection
    }, opts);
  }());
  return out;
}

// The request is refused with `status` and the handler never saw it.
void check_refused(const std::string& raw, int status) {
  INFO("request: " << raw);
  const outcome o = ask(raw);
  CHECK(status_of(o.answer) == status);
  CHECK(o.answer.find("Connection: close\r\n") != std::string::npos);
  CHECK(o.handled.empty());
}

}  // namespace

TEST_CASE("http strict: whitespace before a colon is 400, so Transfer-Encoding : chunked smuggles nothing") {
  // One reading takes "Transfer-Encoding " as chunked framing and sees a second request in
  // the body; the other takes Content-Length. Refusing the message closes the hole.
  const std::string smuggle =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 39\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  check_refused(smuggle, 400);
  check_refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
  check_refused("GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n", 400);
}

TEST_CASE("http strict: an HTTP/1.1 request without Host is 400; HTTP/1.0 needs none") {
  check_refused("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400);
  const outcome o = ask("GET /old HTTP/1.0\r\n\r\n");
  CHECK(status_of(o.answer) == 200);
  CHECK(o.handled == std::vector<std::string>{"/old"});
}

TEST_CASE("http strict: a repeated Host is 400") {
  check_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  check_refused("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400);
}

TEST_CASE("http strict: obs-fold continuation lines are 400") {
  check_refused("GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n b\r\n\r\n", 400);
  check_refused("GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n\tb\r\n\r\n", 400);
}

TEST_CASE("http strict: Content-Length with Transfer-Encoding is 400 and the connection closes") {
  // Keep-alive is asked for; the connection closes anyway (read_all returns only then).
  check_refused(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  check_refused(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", 400);
}

TEST_CASE("http strict: a Transfer-Encoding that does not end in chunked is 400") {
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400);
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400);
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400);
  check_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_CASE("http strict: a transfer coding other than chunked is 501") {
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: frobnicate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                501);
  // A chunked body alone is fine, whatever the case of the coding name.
  const outcome o = ask(
      "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  CHECK(status_of(o.answer) == 200);
  CHECK(o.last_body == "abc");
}

TEST_CASE("http strict: an invalid or conflicting Content-Length is 400") {
  for (const char* cl : {"12abc", "-1", "1 2", "", "+5", "0x10", "5, 5"})
    check_refused(fmt::format("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n12345", cl), 400);
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n123456", 400);
  check_refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
}

TEST_CASE("http strict: a header section over the limit is 431") {
  check_refused(fmt::format("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", std::string(17 * 1024, 'a')), 431);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i) many += fmt::format("X-{}: v\r\n", i);
  check_refused(many + "\r\n", 431);
}

TEST_CASE("http strict: a request line over the limit is 414") {
  check_refused(fmt::format("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", std::string(9000, 'a')), 414);
  // Cut as soon as the limit is passed, before the line ends.
  check_refused(fmt::format("GET /{}", std::string(9000, 'a')), 414);
}

TEST_CASE("http strict: an HTTP version other than 1.x is 505") {
  check_refused("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
  check_refused("GET / HTTP/3.1\r\nHost: x\r\n\r\n", 505);
  check_refused("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505);
}

TEST_CASE("http strict: an unknown method is 501, a malformed request line 400") {
  check_refused("FROB / HTTP/1.1\r\nHost: x\r\n\r\n", 501);
  check_refused("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  check_refused("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

TEST_CASE("http strict: CONNECT is 501, and the body it announces is never read as a request") {
  // http_parser ends a CONNECT message at its head whatever Content-Length says, so the
  // announced body would have been parsed as the next request (found by fuzz_stream).
  check_refused("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n\r\n", 501);
  check_refused("CONNECT example.org:443 HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n"
                "GET /smuggled HTTP/1.1\r\n\r\n",
                501);
}

TEST_CASE("http strict: a CR, LF or NUL inside a field value is 400") {
  check_refused(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"), 400);
  check_refused(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 38), 400);
  // A bare LF ends the line, so the rest is a field line without a colon.
  check_refused(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb c\r\n\r\n"), 400);
  check_refused(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n"), 400);
}

TEST_CASE("http strict: HEAD, 204 and 304 responses carry no body") {
  // Pipelined: each answer must start right where the previous head ended.
  const outcome o = ask(
      "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /204 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /304 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(o.handled.size() == 4);
  std::vector<std::string> heads;
  std::string_view rest = o.answer;
  for (int i = 0; i < 3; ++i) {
    const auto end = rest.find("\r\n\r\n");
    REQUIRE(end != std::string_view::npos);
    heads.emplace_back(rest.substr(0, end + 4));
    rest.remove_prefix(end + 4);
  }
  CHECK(heads[0].starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(heads[0].find("Content-Length: 3\r\n") != std::string::npos);  // the GET's length ("ok:"), no body
  CHECK(heads[1].starts_with("HTTP/1.1 204 No Content\r\n"));
  CHECK(heads[1].find("Content-Length") == std::string::npos);
  CHECK(heads[2].starts_with("HTTP/1.1 304 Not Modified\r\n"));
  CHECK(rest.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(rest.ends_with("\r\n\r\nok:"));
  CHECK(o.answer.find("must not be sent") == std::string::npos);
}

TEST_CASE("http strict: a response never carries both Content-Length and Transfer-Encoding") {
  const outcome o = ask("GET /framing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(status_of(o.answer) == 200);
  CHECK(o.answer.find("Transfer-Encoding") == std::string::npos);
  CHECK(o.answer.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(o.answer.find("999") == std::string::npos);
  CHECK(o.answer.ends_with("\r\n\r\nabc"));
}

TEST_CASE("http strict: chunked trailers do not become request headers") {
  const outcome o = ask(
      "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\nX-Trailer: sneaky\r\n\r\n");
  CHECK(status_of(o.answer) == 200);
  CHECK(o.last_body == "hi");
  CHECK(o.last_trailer.empty());
}

TEST_CASE("http strict: pipelined requests split at every byte are answered in order") {
  // Written one byte per send: no framing decision may depend on how the bytes arrive.
  outcome o;
  coring::run([&]() -> task<> {
    auto h = [&](const http::request& req) -> task<http::response> {
      o.handled.push_back(req.target);
      co_return http::response::text(200, req.body);
    };
    co_await with_server(h, [&](std::uint16_t port) -> task<> {
      auto s = co_await coring::tcp_stream::connect("127.0.0.1", port);
      const std::string raw =
          "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
          "POST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\n"
          "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      for (char c : raw) co_await s.write_all(std::string_view(&c, 1));
      o.answer = co_await read_all(s);
    });
  }());
  CHECK(o.handled == std::vector<std::string>{"/1", "/2", "/3"});
  const auto a = o.answer.find("\r\n\r\nab"), b = o.answer.find("\r\n\r\nc"), c = o.answer.rfind("HTTP/1.1 200");
  CHECK(a != std::string::npos);
  CHECK(b > a);
  CHECK(c > b);
}

TEST_CASE("http strict: the client refuses responses framed ambiguously") {
  coring::run([]() -> task<> {
    const std::vector<std::string> answers = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2\r\nContent-Length: 0\r\n\r\n",
    };
    co_await with_answers(answers, [&](std::uint16_t port) -> task<> {
      http::client c;
      for (const std::string& a : answers) {
        INFO("response: " << a);
        const auto e = co_await caught<http::protocol_error>(c.get(url(port, "/")));
        const bool refused = e && std::string_view(e->what()).find("invalid HTTP response") != std::string_view::npos;
        CHECK(refused);
      }
    });
  }());
}

TEST_CASE("http strict: the client reads no body after a 1xx, 204 or 304 head, whatever its Content-Length says") {
  // RFC 9112 6.3: these responses end with their head (a 304 may announce the 200's length).
  coring::run([]() -> task<> {
    const std::vector<std::string> answers = {
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    co_await with_answers(answers, [&](std::uint16_t port) -> task<> {
      http::client c;
      const std::vector<std::pair<int, std::string>> want = {{204, ""}, {304, ""}, {200, "ok"}, {200, "ok"}};
      for (const auto& [status, body] : want) {
        http::response r = co_await c.get(url(port, "/"));
        CHECK(r.status == status);
        CHECK(r.body == body);
      }
    });
  }());
}
