// coring::http — a small HTTP/1.1 client and server on coring's TCP layer (separate library
// `coring_http`: meson `dependency('coring_http')`, pkg-config `coring_http`; the core
// library does not depend on it).
//
// Plain http:// only: there is no TLS. An https:// URL is rejected with
// std::invalid_argument. Messages are parsed by Node's http_parser (Debian's
// libhttp-parser-dev), never by hand.
//
// Client (Python's requests / aiohttp shape):
//
//   coring::http::response r = co_await coring::http::get("http://127.0.0.1:8080/hello");
//   r.raise_for_status();                      // throws status_error for 4xx / 5xx
//   fmt::print("{} {}\n", r.status, r.body);
//
//   coring::http::client c({.max_connections = 4});   // keep-alive pool, at most 4 sockets
//   coring::http::header_map h{{"Content-Type", "text/plain"}};
//   auto r2 = co_await c.request("POST", url, h, "data");
//
// (g++ 12 fails with "array used as initializer" on a braced list such as
// {{"Content-Type", "text/plain"}} written inside a co_await expression — a compiler bug
// with initializer_list temporaries in coroutines; build the header_map in a local first.)
//
// Server (the handler is a coroutine; each connection runs as a task-group child):
//
//   auto l = coring::tcp_listener::bind("127.0.0.1", 8080);
//   co_await coring::http::serve(l, [](const coring::http::request& req)
//                                       -> coring::task<coring::http::response> {
//     if (req.path() != "/") co_return coring::http::response::text(404, "no such page\n");
//     co_return coring::http::response::text(200, "hello\n");
//   });   // runs until cancelled; then every connection is closed
//
// Cancellation: every awaitable here is a cancellation point and may be wrapped in
// coring::with_timeout or spawned in a task group. A cancelled client request closes the
// connection it was using (its state is unknown) instead of returning it to the pool.
//
// Errors: OS errors come from the TCP layer as std::system_error ("connect 127.0.0.1:9:
// Connection refused"); a peer that does not speak HTTP gives protocol_error; bad
// arguments (a malformed URL, a header with a line break) give std::invalid_argument.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coring/net.hpp"
#include "coring/semaphore.hpp"
#include "coring/task.hpp"
#include "coring/time.hpp"

namespace coring::http {

// ---- errors ----

// The peer sent something that is not valid HTTP/1.x, or closed the connection in the
// middle of a message, or sent a message larger than the configured limit.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by response::raise_for_status() for a 4xx or 5xx status.
// what(): "HTTP 404 Not Found for GET http://127.0.0.1:8080/x".
class status_error : public std::runtime_error {
 public:
  status_error(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// ---- headers ----

// An ordered list of header fields. Names compare case-insensitively (as HTTP requires);
// order and duplicates are kept as received.
//
//   coring::http::header_map h{{"Accept", "text/plain"}};
//   h.set("X-Id", "7");
//   if (auto v = h.get("content-type")) fmt::print("{}\n", *v);
class header_map {
 public:
  using field = std::pair<std::string, std::string>;
  header_map() = default;
  header_map(std::initializer_list<field> fields);

  // Appends a field (a second field with the same name is kept).
  // Errors: std::invalid_argument when the name is not an HTTP token or either part holds
  // a CR, LF or NUL (they would let a value smuggle in more headers).
  void add(std::string name, std::string value);
  // Replaces every field named `name` by one field (or appends it). Errors: as add.
  void set(std::string name, std::string value);
  // The first value of `name`, or nothing. The view is valid until the map is changed.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Removes every field named `name`; returns how many.
  std::size_t erase(std::string_view name);

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

  // Appends without validation; for the parser, whose input http_parser already checked.
  void add_unchecked(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

 private:
  std::vector<field> fields_;
};

// True when a and b are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

// ---- messages ----

// A request: what the server's handler receives, and (built with the constructor below)
// something the client can send. Awaiting a request value sends it with the default
// client, so `co_await coring::http::request("PUT", url, headers, body)` reads like
// Python's requests.request(...).
struct response;
struct request {
  std::string method = "GET";
  // The request target as sent: "/search?q=x" on the server; the absolute URL
  // ("http://127.0.0.1:8080/search?q=x") for a request built to be sent.
  std::string target = "/";
  int version_major = 1;
  int version_minor = 1;
  header_map headers;
  std::string body;     // decoded (chunked transfer encoding removed)
  endpoint peer;        // server side: the client's address

  request() = default;
  // A request to send (nothing happens until it is awaited or passed to client::send).
  request(std::string method_, std::string url, header_map headers_ = {}, std::string body_ = {})
      : method(std::move(method_)), target(std::move(url)), headers(std::move(headers_)), body(std::move(body_)) {}

  // The target's path without the query: "/search" (also for an absolute URL).
  std::string_view path() const noexcept;
  // The query without '?': "q=x", or "" when there is none.
  std::string_view query() const noexcept;

  // Sends the request with default_client() and returns the response: see client::request
  // for what is added, cancellation and errors. Consumes the request.
  //
  //   auto r = co_await coring::http::request("DELETE", "http://127.0.0.1:8080/k");
  class sender;
  sender operator co_await() &&;
};

// A response: what the client returns and what a handler returns.
struct response {
  int status = 200;
  std::string reason;   // received reason phrase; the server fills in the standard one if empty
  header_map headers;
  std::string body;     // decoded (chunked transfer encoding removed)
  // Client side: the request that produced it, for messages ("GET http://.../x").
  std::string method;
  std::string url;

  // True for 2xx (and 1xx/3xx): status < 400.
  bool ok() const noexcept { return status < 400; }
  // Throws status_error when status is 4xx or 5xx; does nothing otherwise.
  //
  //   auto r = co_await coring::http::get(url);
  //   r.raise_for_status();
  void raise_for_status() const;

  // A response with a text/plain body ("text/plain; charset=utf-8").
  //
  //   co_return coring::http::response::text(200, "hello\n");
  static response text(int status, std::string body);
  // A response with the given body and Content-Type.
  static response with_body(int status, std::string body, std::string content_type);
};

// ---- client ----

struct client_options {
  // Sockets open at once (in use or idle, all hosts together). A request that finds every
  // socket busy waits, FIFO, for one (a coring::semaphore). Must be at least 1.
  std::size_t max_connections = 16;
  // An idle keep-alive socket older than this is closed instead of reused.
  std::chrono::milliseconds idle_timeout{30'000};
  // A response whose body is larger than this fails with protocol_error.
  std::size_t max_body_size = std::size_t{64} << 20;
  // Sent as User-Agent unless the request sets one.
  std::string user_agent = "coring-http/0.1";
};

// Counters for logs and tests.
struct client_statistics {
  std::uint64_t requests = 0;            // requests that got a response
  std::uint64_t connections_opened = 0;  // TCP connections made
  std::uint64_t connections_reused = 0;  // requests sent on a kept-alive connection
  std::uint64_t retries = 0;             // idempotent requests re-sent after a stale keep-alive socket failed
  std::size_t idle = 0;                  // idle sockets in the pool now
  std::size_t in_use = 0;                // requests holding a socket now
};

// An HTTP/1.1 client with a keep-alive pool per host:port and a limit on open sockets
// (like a requests.Session or an aiohttp.ClientSession). Not copyable or movable (tasks
// wait on it); it must outlive every request made through it, and is used on one thread.
// Idle sockets are closed by the destructor or close_idle().
//
// Connection reuse: a response read completely on a connection both sides keep alive
// returns the socket to the pool; anything else (an error, a cancellation, Connection:
// close, a body ended by EOF) closes it. When a reused socket turns out to be closed by the
// server before any byte of the response arrived, an idempotent request (GET, HEAD, PUT,
// DELETE, OPTIONS, TRACE) is sent once more on a new connection; other methods get the
// error.
class client {
 public:
  // Errors: std::invalid_argument when max_connections is 0.
  explicit client(client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends `method url` with `headers` and `body` and returns the whole response (any
  // status: check it with raise_for_status()). Adds Host, User-Agent, Accept, and
  // Content-Length (for a body, or for POST/PUT/PATCH) unless given. Reads bodies framed
  // by Content-Length, chunked encoding, or the end of the connection.
  // Cancellation: a cancellation point (waiting for a socket, connecting, sending,
  // receiving); a cancelled request closes its socket, so it never corrupts the pool.
  // Errors: std::invalid_argument for a bad URL, an https:// URL (no TLS here), a method
  // or header with illegal characters; std::system_error from connect/send/recv;
  // std::system_error in coring::resolver_category() for unknown host names; protocol_error
  // for a malformed or truncated response or one over max_body_size.
  //
  //   auto r = co_await c.request("PUT", "http://127.0.0.1:8080/k", {}, "v");
  task<response> request(std::string method, std::string url, header_map headers = {}, std::string body = {});

  // Sends a request value (its target is the absolute URL); same as request(r.method,
  // r.target, r.headers, r.body).
  //
  //   auto r = co_await c.send(coring::http::request("GET", url));
  task<response> send(http::request r);

  // request("GET", url, headers).
  //
  //   auto r = co_await c.get("http://127.0.0.1:8080/");
  task<response> get(std::string url, header_map headers = {});
  // request("POST", url, headers, body).
  task<response> post(std::string url, std::string body, header_map headers = {});

  // Closes every idle socket now (close(2), no await). Requests in flight are unaffected.
  void close_idle() noexcept;

  client_statistics statistics() const noexcept;
  const client_options& options() const noexcept { return opts_; }

 private:
  struct idle_conn {
    tcp_stream stream;
    time_point since;
  };
  // A kept-alive socket to `key` ("host:port") that is not too old, if any (newest first).
  std::optional<tcp_stream> take_idle(const std::string& key);
  // Closes the oldest idle socket when opening one more would exceed max_connections.
  void make_room() noexcept;
  void put_idle(const std::string& key, tcp_stream s);
  void drop_idle(const std::string& key) noexcept;

  client_options opts_;
  semaphore slots_;
  std::map<std::string, std::vector<idle_conn>> idle_;
  std::size_t idle_count_ = 0;
  client_statistics stats_;
};

// The calling thread's default client (default client_options), used by the free
// functions below. Created on first use; its idle sockets are closed at thread exit.
client& default_client();

// `co_await coring::http::request(method, url, headers, body)` constructs a request (the
// type above) and awaiting it sends it with default_client(): see client::request for
// cancellation and errors. It can also be given to with_timeout or spawned in a task group.
class request::sender {
 public:
  explicit sender(task<response> t) noexcept : t_(std::move(t)) {}
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept {
    return t_.operator co_await().await_suspend(h);
  }
  response await_resume();

 private:
  task<response> t_;
};

// default_client().get(url): like Python's requests.get.
//
//   auto r = co_await coring::with_timeout(2s, coring::http::get("http://127.0.0.1:8080/"));
task<response> get(std::string url, header_map headers = {});

// ---- server ----

// The server calls this once per request; it may await anything. Throwing a
// std::exception sends 500 Internal Server Error (and keeps the connection).
using handler = std::function<task<response>(const request&)>;

// Counters a server updates as it runs (pass a pointer in server_options).
struct server_statistics {
  std::uint64_t connections = 0;     // connections accepted
  std::size_t open = 0;              // connections open now
  std::uint64_t requests = 0;        // requests answered (any status)
  std::uint64_t bad_requests = 0;    // malformed requests (answered 400/413, then closed)
  std::uint64_t handler_errors = 0;  // handler exceptions (answered 500)
  std::uint64_t connection_errors = 0;  // connections that ended with an I/O error (reset...)
};

struct server_options {
  // A request body larger than this is answered 413 and the connection closed.
  std::size_t max_body_size = std::size_t{16} << 20;
  // A connection that sends nothing for this long is closed (between requests and while a
  // request is being received).
  std::chrono::milliseconds idle_timeout{60'000};
  // Sent as Server unless the response sets one (empty: no Server header).
  std::string server_name = "coring";
  // Updated as the server runs; must outlive serve(). Optional.
  server_statistics* stats = nullptr;
};

// Accepts connections on `listener` and answers their requests with `h`, each connection
// in its own task-group child (keep-alive; pipelined requests are answered in order).
// Responses carry Content-Length (HEAD gets the headers only). Malformed requests get 400
// Bad Request (413 for an oversized body) and the connection is closed; a handler that
// throws gets 500; an I/O error ends only its connection. `Expect: 100-continue` is
// answered.
// Runs until cancelled, or until the listener is closed (then it returns after closing
// every connection). The listener stays owned by the caller.
// Cancellation: cancelling serve() cancels every connection (and running handlers), closes
// their sockets, waits for them, and rethrows coring::cancelled.
// Errors: std::system_error from accept() other than the listener being closed (EMFILE
// and similar resource errors are retried after a short pause instead).
//
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     auto srv = tg.spawn(coring::http::serve(listener, handler), "http-server");
//     co_await do_work();
//     srv.cancel();   // shut the server down
//   });
task<void> serve(tcp_listener& listener, handler h, server_options opts);
// serve() with default server_options.
//
// (Why an overload and not a default argument: g++ 12 destroys an aggregate temporary
// written inside a co_await expression twice — `co_await serve(l, h, {.stats = &st})` or a
// defaulted `= {}` argument double-frees. With the three-argument form, pass a named
// server_options variable.)
task<void> serve(tcp_listener& listener, handler h);

// The standard reason phrase of a status code ("Not Found"), "Unknown" if there is none.
std::string_view reason_phrase(int status) noexcept;

}  // namespace coring::http
