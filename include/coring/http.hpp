// coring::http — a small HTTP/1.1 client and server on coring's TCP layer (separate library
// `coring_http`: meson `dependency('coring_http')`, pkg-config `coring_http`; the core
// library does not depend on it).
//
// Plain http:// only: there is no TLS. An https:// URL is rejected with
// std::invalid_argument. Message heads are first checked byte by byte against RFC 9112
// (no whitespace before a colon, no obs-fold, no control characters in values, size
// limits), then parsed by Node's http_parser (Debian's libhttp-parser-dev), and the two
// must agree on how the body is framed; anything ambiguous is refused. That framing code
// works on bytes alone (no sockets) and is fuzzed with libFuzzer (tests/fuzz, ./run fuzz).
//
// Limits and timeouts are on by default; README "Limits and defaults" lists them all.
//
// Client (Python's requests / aiohttp shape): http::get(url), client::request(method, url,
// headers, body), `co_await http::request(...)`; see examples/http_get.cpp and
// examples/http_client_request.cpp.
//
// (g++ 12 fails with "array used as initializer" on a braced list such as
// {{"Content-Type", "text/plain"}} written inside a co_await expression — a compiler bug
// with initializer_list temporaries in coroutines; build the header_map in a local first.)
//
// Server: http::serve(listener, handler, options); the handler is a coroutine, each
// connection runs as a task-group child; see examples/http_serve.cpp and, for a graceful
// shutdown, examples/http_drain.cpp.
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

#include "coring/file.hpp"
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

// A body larger than the limit of a whole-body read (body_reader::read_all): the
// client's client_options::max_body_size, the server's server_options::max_body_size. A
// handler that lets it escape gets 413 Content Too Large (the connection is then closed).
// what() names the limit and says how to read a larger body (stream it).
class body_too_large : public protocol_error {
 public:
  using protocol_error::protocol_error;
};

// Thrown by response::raise_for_status() for a 4xx or 5xx status.
// what(): "HTTP 404 Not Found for GET http://127.0.0.1:8080/x".
class status_error : public std::runtime_error {
 public:
  // `what` is the whole message (as above); `status` the response's code.
  status_error(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  // The response's status code (400..599). Never throws.
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// ---- headers ----

// An ordered list of header fields. Names compare case-insensitively (as HTTP requires);
// order and duplicates are kept as received.
//
// Example (examples/http_header_map.cpp):
//   coring::http::header_map h{{"Accept", "text/plain"}};
//   h.set("X-Id", "7");
//   if (auto v = h.get("x-id")) seen = *v;  // "7"
class header_map {
 public:
  using field = std::pair<std::string, std::string>;
  // No fields.
  header_map() = default;
  // The fields in the given order: {{"Accept", "text/plain"}, {"X-Id", "7"}}. Errors:
  // std::invalid_argument for a name that is not an HTTP token or a value holding CR, LF
  // or NUL (as add()).
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

  // The number of fields (repeated names count each time), and iteration over them in
  // the order they were added or received. Never throw.
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

// ---- URLs: percent-decoding and query strings ----

// Decodes %XX escapes (RFC 3986) in `s`: "a%20b" -> "a b". With `plus_as_space` (query
// strings, HTML forms) a '+' is a space too, as in Python's urllib.parse.unquote_plus.
// Errors: std::invalid_argument naming the position when a '%' is not followed by two hex
// digits ("a%2" or "%zz"): such input is refused rather than passed through, so two readings
// can never disagree. The result may hold any byte (also NUL); check it where that matters.
//
// Example (examples/http_query.cpp):
//   std::string name = coring::http::percent_decode("caf%C3%A9%20au%20lait");  // "café au lait"
//   auto q = coring::http::parse_query("q=a+b&tag=x&tag=y&empty");
//   // q.get("q") == "a b", q.get_all("tag") == {"x", "y"}, q.get("empty") == ""
std::string percent_decode(std::string_view s, bool plus_as_space = false);

// Encodes every byte outside RFC 3986's unreserved set (letters, digits, - . _ ~) and
// outside `safe` as %XX: percent_encode("a b/c") == "a%20b/c". Never fails.
// Example: examples/http_query.cpp builds a URL with it.
std::string percent_encode(std::string_view s, std::string_view safe = "/");

// An ordered list of name/value pairs: a parsed query string, or a route's path
// parameters. Names compare exactly (case matters, as in URLs); duplicates are kept in
// order. Example: under percent_decode.
class param_map {
 public:
  using param = std::pair<std::string, std::string>;
  // No parameters, or the given ones in order.
  param_map() = default;
  param_map(std::initializer_list<param> ps) : params_(ps) {}

  // Appends a parameter (a repeated name is kept: "a=1&a=2" has two).
  void add(std::string name, std::string value) { params_.emplace_back(std::move(name), std::move(value)); }
  // The first value named `name`, or nothing. The view is valid until the map is changed.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  // Every value named `name`, in order.
  std::vector<std::string> get_all(std::string_view name) const;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  std::size_t size() const noexcept { return params_.size(); }
  bool empty() const noexcept { return params_.empty(); }
  auto begin() const noexcept { return params_.begin(); }
  auto end() const noexcept { return params_.end(); }

 private:
  std::vector<param> params_;
};

// Parses an application/x-www-form-urlencoded query ("a=1&b=x+y&c", without the '?'):
// pairs split at '&' (empty pieces skipped), name and value split at the first '=' (a piece
// without '=' is a name with an empty value), both decoded with percent_decode(_, true).
// Errors: std::invalid_argument for a malformed %-escape (see percent_decode); a server
// handler turns it into a 400 answer itself (see examples/http_router.cpp).
// Example: under percent_decode.
param_map parse_query(std::string_view query);

// ---- messages ----

class body_writer;
// A body written while it is sent (see response::stream and request::body_stream).
using body_producer = std::function<task<void>(body_writer&)>;

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
  std::string body;     // decoded (chunked transfer encoding removed); empty for a streaming handler
  endpoint peer;        // server side: the client's address
  param_map params;     // server side: the path parameters a router matched ({id} -> "7"), decoded
  // Client side, instead of `body`: a producer that writes the body as it is sent (a large
  // upload in constant memory), with body_length as its Content-Length, or chunked transfer
  // coding when body_length is empty. See client::send. A request with a producer is never
  // re-sent (the producer may not be repeatable).
  body_producer body_stream;
  std::optional<std::uint64_t> body_length;

  request() = default;
  // A request to send (nothing happens until it is awaited or passed to client::send).
  request(std::string method_, std::string url, header_map headers_ = {}, std::string body_ = {})
      : method(std::move(method_)), target(std::move(url)), headers(std::move(headers_)), body(std::move(body_)) {}

  // The target's path without the query: "/search" (also for an absolute URL).
  std::string_view path() const noexcept;
  // The query without '?': "q=x", or "" when there is none.
  std::string_view query() const noexcept;
  // parse_query(query()): the same errors (std::invalid_argument for a malformed escape).
  param_map query_params() const { return parse_query(query()); }

  // Sends the request with default_client() and returns the response: see client::request
  // for what is added, cancellation and errors. Consumes the request.
  //
  // Example (examples/http_request_await.cpp):
  //   auto r = co_await coring::http::request("DELETE", url);
  class sender;
  // Sends the request (see the example above); the awaitable yields the response.
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
  // Server side, instead of `body`: a producer the server calls after the handler returned,
  // to write the body as it is sent (see response::stream), with body_length as its
  // Content-Length or, when empty, chunked transfer coding (HTTP/1.0: the end of the
  // connection).
  body_producer body_stream;
  std::optional<std::uint64_t> body_length;

  // True for 2xx (and 1xx/3xx): status < 400.
  bool ok() const noexcept { return status < 400; }
  // Throws status_error when status is 4xx or 5xx; does nothing otherwise.
  //
  // Example (examples/http_get.cpp):
  //   coring::http::response r = co_await coring::http::get(url);
  //   r.raise_for_status();  // throws status_error for 4xx / 5xx
  void raise_for_status() const;

  // A response with a text/plain body ("text/plain; charset=utf-8").
  //
  // Example (examples/http_response.cpp):
  //   auto r = coring::http::response::text(200, "hello\n");
  //   auto j = coring::http::response::with_body(201, R"({"id": 7})", "application/json");
  static response text(int status, std::string body);
  // A response with the given body and Content-Type.
  static response with_body(int status, std::string body, std::string content_type);

  // A response whose body `producer` writes while it is sent, through a body_writer whose
  // every write waits until the socket took the bytes (so a slow client slows the
  // producer: memory stays constant). `length` gives a Content-Length the producer must
  // write exactly; without it the body is sent chunked (to HTTP/1.0 clients: until close).
  // For HEAD, 204 and 304 the producer is not called. The producer runs in the connection's
  // task: cancelling the server cancels it at its next write. Errors: a producer that
  // throws before its first write gets 500; after it, the connection is closed (the
  // client sees a truncated body), counted in server_statistics::handler_errors.
  //
  // Example (examples/http_streaming.cpp):
  //   co_return coring::http::response::stream(200, [](coring::http::body_writer& w) -> coring::task<> {
  //     for (int i = 0; i < 3; ++i) {
  //       const std::string line = fmt::format("line {}\n", i);  // named: it must outlive the write
  //       co_await w.write(line);
  //     }
  //   }, "text/plain");
  static response stream(int status, body_producer producer,
                         std::string content_type, std::optional<std::uint64_t> length = std::nullopt);

  // A response that sends the file at `path` (opened now, read-only) with Content-Length,
  // the bytes going from the file to the socket through a pipe with IORING_OP_SPLICE (no
  // copy through user space; see body_writer::write_file).
  // Cancellation: a cancellation point (opening and sizing the file).
  // Errors: std::system_error from opening or sizing it ("open /x: No such file or
  // directory": catch it to answer 404).
  //
  // Example (examples/http_file.cpp):
  //   co_return co_await coring::http::response::file(path, "text/plain");
  static task<response> file(std::string path, std::string content_type);
};

// ---- streaming bodies ----

namespace detail {
// Where a body_reader's bytes come from: the server's or the client's connection, or a
// gzip decoder over one of them.
class body_source {
 public:
  virtual ~body_source() = default;
  // The next piece of the body, valid until the next call; empty once the body ended.
  virtual task<std::string_view> next() = 0;
  // The announced length of what next() delivers, if known.
  virtual std::optional<std::uint64_t> length() const noexcept = 0;
};
struct writer_access;
}  // namespace detail

// A message body read as it arrives: what a streaming handler receives for the request
// body, and what client::stream's streaming_response holds for the response body. Nothing
// is read before it is asked for, so a slow reader slows the sender (TCP flow control)
// and memory stays constant however large the body is. Not copyable; valid while the
// handler runs / while its streaming_response lives.
//
// Example (examples/http_streaming.cpp):
//   std::uint64_t total = 0;
//   for (;;) {
//     std::string_view piece = co_await body.read();
//     if (piece.empty()) break;  // the whole body arrived
//     total += piece.size();
//   }
class body_reader {
 public:
  // Made by the server (and the client) over a connection's body; handlers receive one.
  body_reader(detail::body_source& src, std::size_t limit) noexcept : src_(&src), limit_(limit) {}
  body_reader(const body_reader&) = delete;
  body_reader& operator=(const body_reader&) = delete;

  // The next piece of the body (chunk framing removed, any size up to the connection's
  // read size), valid until the next call; empty when the body is complete (and on every
  // call after). On the server, the first read of a request sent with
  // "Expect: 100-continue" answers "100 Continue" first.
  // Cancellation: a cancellation point; a cancelled read leaves the body unreadable (the
  // client's socket is then closed, not pooled; the server closes the connection after
  // the response).
  // Errors: protocol_error for a malformed or truncated body; on the server a body
  // slower than its deadline (server_options::body_timeout) throws protocol_error and the
  // connection is answered 408; std::system_error from the socket; std::logic_error when
  // read after an earlier read failed.
  task<std::string_view> read();
  // Reads the rest of the body into a string. Cancellation: as read.
  // Errors: body_too_large when it exceeds limit() (checked against Content-Length before
  // anything is read, so no 100 Continue is sent for it); otherwise as read.
  task<std::string> read_all();
  // The body has been read to its end.
  bool done() const noexcept { return done_; }
  // Bytes delivered by read() so far.
  std::uint64_t received() const noexcept { return received_; }
  // The sender's Content-Length; nothing for a chunked or EOF-framed body (or a decoded
  // gzip body, whose length is unknown).
  std::optional<std::uint64_t> content_length() const noexcept { return src_->length(); }
  // read_all's limit (the server's or client's max_body_size); read() has none.
  std::size_t limit() const noexcept { return limit_; }

 private:
  detail::body_source* src_;
  std::size_t limit_;
  std::uint64_t received_ = 0;
  bool done_ = false;
  bool broken_ = false;
};

// Writes a message body as it is sent: handed to a response::stream producer (server) and
// to a request::body_stream producer (client). It frames what it is given (chunked, or
// counted against the Content-Length) and each write returns only once the socket took
// the bytes, so the producer runs no faster than the peer reads. Not copyable; valid while
// the producer runs.
//
// Example: under response::stream (examples/http_streaming.cpp).
class body_writer {
 public:
  body_writer(const body_writer&) = delete;
  body_writer& operator=(const body_writer&) = delete;

  // Sends `data` as the next part of the body (an empty write sends nothing).
  // Cancellation: a cancellation point, not cancel-safe (a prefix may have been sent, so
  // the connection is closed afterwards).
  // Errors: std::logic_error when it would exceed the announced length; std::system_error
  // from the socket (the peer went away); on the server coring::timeout_error when the
  // client does not take the bytes within server_options::write_timeout (plus the
  // min_transfer_rate allowance for them): the connection is then closed.
  task<void> write(std::string_view data);
  // Sends `length` bytes of `f` from `offset` as the next part of the body, moved from the
  // file to the socket through a pipe by IORING_OP_SPLICE (coring::splice), without a copy
  // through user space; where the kernel cannot splice the file (EINVAL: some file
  // systems) it falls back to reading and sending through a buffer.
  // Cancellation, errors: as write; std::system_error "splice ..." for a read error, and
  // protocol_error when the file is shorter than offset + length.
  // Example: examples/http_file.cpp (through response::file).
  task<void> write_file(const coring::file& f, std::uint64_t offset, std::uint64_t length);
  // Bytes of body written so far.
  std::uint64_t written() const noexcept { return written_; }

 private:
  friend struct detail::writer_access;
  enum class framing : unsigned char { length, chunked, until_close };
  body_writer(tcp_stream& s, framing f, std::optional<std::uint64_t> length, std::string head,
              std::chrono::milliseconds timeout, std::size_t min_rate) noexcept
      : s_(&s), framing_(f), length_(length), head_(std::move(head)), timeout_(timeout), min_rate_(min_rate) {}
  task<void> send(std::string_view data);  // the head first, then data, under the deadline
  task<void> finish();                      // the last chunk; checks the length

  tcp_stream* s_;
  framing framing_;
  std::optional<std::uint64_t> length_;
  std::string head_;  // the message head, sent with the first write (or by finish)
  std::uint64_t written_ = 0;
  std::chrono::milliseconds timeout_{0};  // per write (server); 0: none
  std::size_t min_rate_ = 0;
  bool failed_ = false;  // a write failed or was cancelled: the connection is unusable
};

// ---- client ----

// Settings of a client. A class with setters rather than a struct, so that it can never be
// written as an aggregate temporary (`{.max_connections = 4}`) that g++ 12 destroys twice
// inside a co_await expression; each setter returns *this, so settings chain.
//
// Example (examples/http_client_options.cpp):
//   coring::http::client c(coring::http::client_options().max_connections(4).idle_timeout(5s));
class client_options {
 public:
  // The defaults listed below.
  client_options() noexcept {}

  // Sockets open at once (in use or idle, all hosts together). A request that finds every
  // socket busy waits, FIFO, for one (a coring::semaphore). Default 16; must be at least 1
  // (the client constructor throws std::invalid_argument for 0).
  client_options& max_connections(std::size_t n) noexcept { max_connections_ = n; return *this; }
  std::size_t max_connections() const noexcept { return max_connections_; }
  // An idle keep-alive socket older than this is closed instead of reused. Default 30 s.
  // A server's `Keep-Alive: timeout=N` shortens it for that socket (to N - 1 s, so the
  // socket is not reused just as the server closes it).
  client_options& idle_timeout(std::chrono::milliseconds d) noexcept { idle_timeout_ = d; return *this; }
  std::chrono::milliseconds idle_timeout() const noexcept { return idle_timeout_; }
  // A response whose body is larger than this fails with protocol_error. Default 64 MiB.
  client_options& max_body_size(std::size_t n) noexcept { max_body_size_ = n; return *this; }
  std::size_t max_body_size() const noexcept { return max_body_size_; }
  // Sent as User-Agent unless the request sets one (empty: none). Default "coring-http/0.1".
  client_options& user_agent(std::string s) { user_agent_ = std::move(s); return *this; }
  const std::string& user_agent() const noexcept { return user_agent_; }
  // A deadline for each whole request (waiting for a socket, connecting, sending,
  // receiving). When it passes, the request fails with coring::timeout_error naming it:
  // "GET http://127.0.0.1:8080/x timed out after 1 s". Default 0: none (wrap the call in
  // coring::with_timeout for a deadline of your own).
  client_options& timeout(std::chrono::milliseconds d) noexcept { timeout_ = d; return *this; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  // Asks for gzip (sends "Accept-Encoding: gzip" unless the request sets Accept-Encoding)
  // and decodes response bodies sent with "Content-Encoding: gzip", in whole responses and
  // in streaming_response bodies alike (the response's headers stay as received;
  // max_body_size applies to the decoded size, so a small bomb cannot blow up). Default
  // off. Only when coring_http was built with zlib (gzip_supported()); otherwise the client
  // constructor throws std::invalid_argument. A corrupt gzip body is protocol_error.
  //
  // Example (examples/http_client_gzip.cpp):
  //   coring::http::client c(coring::http::client_options().decompress(true));
  //   coring::http::response r = co_await c.get(url);  // r.body is the decoded text
  client_options& decompress(bool on) noexcept { decompress_ = on; return *this; }
  bool decompress() const noexcept { return decompress_; }

 private:
  std::size_t max_connections_ = 16;
  std::chrono::milliseconds idle_timeout_{30'000};
  std::size_t max_body_size_ = std::size_t{64} << 20;
  std::string user_agent_ = "coring-http/0.1";
  std::chrono::milliseconds timeout_{0};
  bool decompress_ = false;
};

// True when coring_http was built with zlib (meson found it), so client_options::decompress
// can be used. Example: examples/http_client_gzip.cpp returns 77 when it is false.
bool gzip_supported() noexcept;

namespace detail {
struct client_exchange;
}

// A response whose body is read as it arrives (client::stream): the status and headers
// are here, the body comes from body(). While it lives it holds its connection (and one of
// the client's max_connections); once the body has been read to its end the connection
// goes back to the pool, and destroying it earlier closes the connection. Move-only; the
// client must outlive it.
//
// Example (examples/http_client_stream.cpp):
//   coring::http::streaming_response r = co_await c.stream("GET", url);
//   r.raise_for_status();
//   std::uint64_t total = 0;
//   while (true) {
//     std::string_view piece = co_await r.body().read();  // constant memory
//     if (piece.empty()) break;
//     total += piece.size();
//   }
class streaming_response {
 public:
  int status = 0;
  std::string reason;
  header_map headers;
  std::string method;  // the request, for messages
  std::string url;

  streaming_response() noexcept;
  streaming_response(streaming_response&&) noexcept;
  streaming_response& operator=(streaming_response&&) noexcept;
  ~streaming_response();

  // status < 400.
  bool ok() const noexcept { return status < 400; }
  // Throws status_error for a 4xx or 5xx status (as response::raise_for_status).
  void raise_for_status() const;
  // The body; see body_reader for cancellation and errors. read_all() is bounded by
  // client_options::max_body_size. Errors: std::logic_error on a moved-from or
  // default-constructed streaming_response.
  body_reader& body();

 private:
  friend class client;
  std::unique_ptr<detail::client_exchange> x_;
};

// Counters for logs and tests.
struct client_statistics {
  std::uint64_t requests = 0;            // requests that got a response
  std::uint64_t connections_opened = 0;  // TCP connections made
  std::uint64_t connections_reused = 0;  // requests sent on a kept-alive connection
  std::uint64_t retries = 0;             // idempotent requests re-sent after a stale keep-alive socket failed
  std::uint64_t stale_closed = 0;        // idle sockets found closed by the server before reuse (never used)
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
// close, a body ended by EOF) closes it. Before an idle socket is reused, the client checks
// (a non-blocking peek on the ring) that the server has not closed it meanwhile, and drops
// it if so, so a request — a POST too — is not sent on a connection already closed by an
// idle server. If the server closes it in the instant between that check and the request
// (nothing of the response arrived), an idempotent request (GET, HEAD, PUT, DELETE,
// OPTIONS, TRACE) is sent once more on a new connection; other methods get the error.
class client {
 public:
  // Errors: std::invalid_argument when max_connections is 0.
  explicit client(client_options opts = client_options());
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
  // or header with illegal characters, CONNECT (tunnels are not supported); std::system_error from connect/send/recv;
  // std::system_error in coring::resolver_category() for unknown host names; protocol_error
  // for a malformed or truncated response or one over max_body_size. Responses are held to
  // the same RFC 9112 head rules as the server's requests: whitespace before a colon,
  // obs-fold, control characters in a value, Content-Length together with
  // Transfer-Encoding, repeated or invalid Content-Length, or a transfer coding other than
  // chunked are protocol_error too (status line 8 KiB, header section 64 KiB, 256 fields).
  // With client_options::timeout set, a request still running at that deadline fails with
  // coring::timeout_error whose what() names it ("GET http://h:1/x timed out after 1 s").
  //
  // Example (examples/http_client_request.cpp):
  //   coring::http::header_map h{{"Content-Type", "text/plain"}};  // built before the co_await
  //   coring::http::response r = co_await c.request("PUT", url, h, "v");
  task<response> request(std::string method, std::string url, header_map headers = {}, std::string body = {});

  // Sends a request value (its target is the absolute URL): request(r.method, r.target,
  // r.headers, r.body), or with r.body_stream an upload written as it is sent (see
  // stream()); returns the whole response. The same cancellation and errors.
  task<response> send(http::request r);

  // request("GET", url, headers): the same cancellation and errors (example:
  // examples/http_client_options.cpp).
  task<response> get(std::string url, header_map headers = {});
  // request("POST", url, headers, body): the same cancellation and errors.
  task<response> post(std::string url, std::string body, header_map headers = {});

  // Sends the request and returns once the response head has arrived, with the body left
  // to read from streaming_response::body() (a download of any size in constant memory;
  // no max_body_size unless read_all() is used). The request's body is r.body, or, for an
  // upload of any size, r.body_stream (a producer writing through a body_writer, framed by
  // r.body_length or chunked). A request with body_stream is never re-sent on a new
  // connection. client_options::timeout, when set, covers the request until the head
  // arrived.
  // Cancellation: a cancellation point; cancelled, it closes its socket.
  // Errors: as request(); an exception from the producer is rethrown (the socket closed).
  //
  // Example (examples/http_client_stream.cpp):
  //   coring::http::request up("PUT", url);
  //   up.body_length = 3 * 1000;
  //   up.body_stream = [](coring::http::body_writer& w) -> coring::task<> {
  //     const std::string block(1000, 'x');
  //     for (int i = 0; i < 3; ++i) co_await w.write(block);
  //   };
  //   coring::http::response done = co_await c.send(std::move(up));
  task<streaming_response> stream(http::request r);
  // stream() of `method url` with `headers` and no body: the same cancellation and errors.
  task<streaming_response> stream(std::string method, std::string url, header_map headers = {});

  // Closes every idle socket now (close(2), no await). Requests in flight are unaffected.
  void close_idle() noexcept;

  client_statistics statistics() const noexcept;
  const client_options& options() const noexcept { return opts_; }

 private:
  struct idle_conn {
    tcp_stream stream;
    time_point since;    // pooled at
    time_point expires;  // reused only before (idle_timeout, or the server's Keep-Alive timeout)
  };
  friend struct detail::client_exchange;
  // Opens a connection (or reuses one), sends r and reads the response head; retries a
  // stale kept-alive socket once for idempotent requests. No client timeout (callers add it).
  task<streaming_response> open_exchange(http::request r);
  // open_exchange, then the whole body (max_body_size), without the client timeout.
  task<response> exchange_whole(http::request r);
  // Gives x a kept-alive socket the server has not closed, or a new connection; true when reused.
  task<bool> connect_or_reuse(detail::client_exchange& x, const std::string& host, std::uint16_t port);
  // A kept-alive socket to `key` ("host:port") that is not too old, if any (newest first).
  std::optional<tcp_stream> take_idle(const std::string& key);
  // Closes the oldest idle socket when opening one more would exceed max_connections.
  void make_room() noexcept;
  void put_idle(const std::string& key, tcp_stream s, duration allowance);
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
// Example (examples/http_get.cpp):
//   coring::http::response r = co_await coring::http::get(url);
//   r.raise_for_status();  // throws status_error for 4xx / 5xx
// A timeout: co_await coring::with_timeout(2s, coring::http::get(url)).
task<response> get(std::string url, header_map headers = {});

// ---- server ----

// The server calls this once per request, with the whole body read (at most
// server_options::max_body_size); it may await anything. Throwing a std::exception sends
// 500 Internal Server Error (and keeps the connection).
using handler = std::function<task<response>(const request&)>;

// A handler that reads the request body itself: the server calls it as soon as the head
// has arrived, with req.body empty and the body in `body` (see body_reader), so an upload
// of any size runs in constant memory; max_body_size bounds only body.read_all(). What it
// leaves unread is skipped if it is already buffered; otherwise the response goes out with
// Connection: close. A body_too_large escaping it is answered 413; a malformed body, 400;
// a body slower than its deadline, 408 (each closes the connection); other exceptions as
// for handler.
//
// Example: under body_reader (examples/http_streaming.cpp).
using streaming_handler = std::function<task<response>(request&, body_reader&)>;

// Counters a server updates as it runs (pass a pointer with server_options::stats).
struct server_statistics {
  std::uint64_t connections = 0;        // connections accepted
  std::size_t open = 0;                 // connections open now
  std::uint64_t requests = 0;           // requests answered (any status)
  std::uint64_t bad_requests = 0;       // malformed requests (answered 400/413/414/431/501/505, then closed)
  std::uint64_t handler_errors = 0;     // handler exceptions or unsendable responses (answered 500)
  std::uint64_t connection_errors = 0;  // connections that ended with an I/O error (reset...)
  std::uint64_t header_timeouts = 0;    // request heads cut by header_timeout (answered 408)
  std::uint64_t body_timeouts = 0;      // request bodies cut by the body deadline (answered 408)
  std::uint64_t write_timeouts = 0;     // responses cut by the write deadline (connection closed)
  std::uint64_t idle_timeouts = 0;      // keep-alive connections closed after idle_timeout
  std::uint64_t accept_waits = 0;       // times the accept loop stopped at max_connections
  std::uint64_t drain_cancelled = 0;    // connections still busy at a drain deadline (cancelled)
};

class server_control;

// Settings of serve(): limits, timeouts, statistics and the drain control. Every defence
// is on by default. A class with setters rather than a struct, so it can never be written
// as an aggregate temporary inside a co_await expression (which g++ 12 destroys twice);
// each setter returns *this, so settings chain, also inside the await.
//
// Example (examples/http_options.cpp):
//   co_await coring::http::serve(l, hello, coring::http::server_options().header_timeout(5s).stats(&st).control(&ctl));
//
// Timeouts (each a deadline for a whole phase, never restarted by a read or a write, so a
// client sending or reading one byte at a time is cut like a silent one):
//   header_timeout  from accepting the connection (or from the first byte of a later
//                   request) to the end of the request head; then 408 and close.
//   body_timeout    from the end of the head to the end of the body, plus one second per
//                   min_transfer_rate bytes received; then 408 and close.
//   write_timeout   for writing one response (also 100 Continue and error answers), plus
//                   one second per min_transfer_rate bytes of it; then the connection closes.
//   idle_timeout    between keep-alive requests (after a response, before the next
//                   request's first byte); then the connection closes silently.
// The handler's own running time is not limited: wrap its work in coring::with_timeout.
class server_options {
 public:
  server_options() noexcept {}

  // A request body larger than this, for a whole-body handler (or body_reader::read_all),
  // is answered 413 and the connection closed (checked against Content-Length before the
  // body is read). Default 16 MiB. A streaming_handler's body_reader::read() has no limit
  // (the handler decides what to keep).
  server_options& max_body_size(std::size_t n) noexcept { max_body_size_ = n; return *this; }
  std::size_t max_body_size() const noexcept { return max_body_size_; }
  // The request line (method, target, version) longer than this gets 414. Default 8 KiB.
  server_options& max_request_line(std::size_t n) noexcept { max_request_line_ = n; return *this; }
  std::size_t max_request_line() const noexcept { return max_request_line_; }
  // A header section (field lines and the empty line) larger than this, or with more
  // fields than max_header_count, gets 431. Defaults 16 KiB and 100 fields.
  server_options& max_header_size(std::size_t n) noexcept { max_header_size_ = n; return *this; }
  std::size_t max_header_size() const noexcept { return max_header_size_; }
  server_options& max_header_count(std::size_t n) noexcept { max_header_count_ = n; return *this; }
  std::size_t max_header_count() const noexcept { return max_header_count_; }
  // Timeouts: see the class comment. Defaults 10 s, 30 s, 30 s, 60 s.
  server_options& header_timeout(std::chrono::milliseconds d) noexcept { header_timeout_ = d; return *this; }
  std::chrono::milliseconds header_timeout() const noexcept { return header_timeout_; }
  server_options& body_timeout(std::chrono::milliseconds d) noexcept { body_timeout_ = d; return *this; }
  std::chrono::milliseconds body_timeout() const noexcept { return body_timeout_; }
  server_options& write_timeout(std::chrono::milliseconds d) noexcept { write_timeout_ = d; return *this; }
  std::chrono::milliseconds write_timeout() const noexcept { return write_timeout_; }
  server_options& idle_timeout(std::chrono::milliseconds d) noexcept { idle_timeout_ = d; return *this; }
  std::chrono::milliseconds idle_timeout() const noexcept { return idle_timeout_; }
  // The slowest transfer rate (bytes per second) the body and write deadlines allow for
  // beyond their base timeout, so a large body is not cut at 30 s. Default 64 KiB/s; 0
  // disables the extension.
  server_options& min_transfer_rate(std::size_t bytes_per_second) noexcept { min_rate_ = bytes_per_second; return *this; }
  std::size_t min_transfer_rate() const noexcept { return min_rate_; }
  // Connections served at once. At the limit serve() stops calling accept(), so further
  // connections wait in the kernel's listen backlog (and are refused by the kernel when it
  // is full) instead of costing descriptors. Default 1000; must be at least 1.
  server_options& max_connections(std::size_t n) noexcept { max_connections_ = n; return *this; }
  std::size_t max_connections() const noexcept { return max_connections_; }
  // Sent as Server unless the response sets one (empty: no Server header). Default "coring".
  server_options& server_name(std::string s) { server_name_ = std::move(s); return *this; }
  const std::string& server_name() const noexcept { return server_name_; }
  // Updated as the server runs; must outlive serve(). Default none.
  server_options& stats(server_statistics* s) noexcept { stats_ = s; return *this; }
  server_statistics* stats() const noexcept { return stats_; }
  // Lets another task drain the server (see server_control). Default none.
  server_options& control(server_control* c) noexcept { control_ = c; return *this; }
  server_control* control() const noexcept { return control_; }

 private:
  std::size_t max_body_size_ = std::size_t{16} << 20;
  std::size_t max_request_line_ = 8 * 1024;
  std::size_t max_header_size_ = 16 * 1024;
  std::size_t max_header_count_ = 100;
  std::chrono::milliseconds header_timeout_{10'000};
  std::chrono::milliseconds body_timeout_{30'000};
  std::chrono::milliseconds write_timeout_{30'000};
  std::chrono::milliseconds idle_timeout_{60'000};
  std::size_t min_rate_ = 64 * 1024;
  std::size_t max_connections_ = 1000;
  std::string server_name_ = "coring";
  server_statistics* stats_ = nullptr;
  server_control* control_ = nullptr;
};

namespace detail {
struct serve_state;
}

// Graceful shutdown of serve(): give the server a server_control (server_options::control)
// and call drain() from any task on the same thread (a signal handler task, a handler, a
// test). Draining:
//   1. stops accepting (the listener stays open and owned by the caller; connections not
//      yet accepted stay in its backlog);
//   2. closes idle connections at once: keep-alive connections waiting for their next
//      request, and accepted connections that have not sent a byte;
//   3. lets requests in flight finish: each gets its full response with Connection: close,
//      and its connection is then closed;
//   4. at the deadline, cancels whatever remains (handlers included) and closes it.
// serve() then returns normally. One control may drain several serve() calls; a serve()
// started with a control that is already draining returns at once.
//
// Example (examples/http_drain.cpp):
//   coring::http::server_control ctl;
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn(coring::http::serve(l, hello, coring::http::server_options().control(&ctl)));
//     coring::http::response r = co_await c.get(url);  // served as usual
//     ok = r.status == 200;
//     ctl.drain(5s);  // serve() returns once the connection above is closed
//   });
class server_control {
 public:
  server_control() noexcept {}
  server_control(const server_control&) = delete;
  server_control& operator=(const server_control&) = delete;
  // Detaches from running servers (they keep serving until cancelled or their listener
  // closes); a drain already started goes on.
  ~server_control();

  // Starts draining every serve() using this control, with `grace` until what remains is
  // cancelled; returns at once (not awaitable: a handler may call it). A second call can
  // only bring the deadline earlier. Errors: std::invalid_argument for a negative grace.
  void drain(std::chrono::milliseconds grace);
  // drain() with an absolute deadline (coring::clock).
  void drain_until(time_point deadline);
  // drain() was called.
  bool draining() const noexcept { return draining_; }

 private:
  friend struct detail::serve_state;
  std::vector<detail::serve_state*> servers_;
  time_point deadline_{};
  bool draining_ = false;
};

// Accepts connections on `listener` and answers their requests with `h`, each connection
// in its own task-group child (keep-alive; pipelined requests are answered in order, one
// at a time). Responses carry Content-Length, except 204 and 304; HEAD, 204 and 304
// responses never carry a body; a response never has both Content-Length and
// Transfer-Encoding (the handler's framing fields are replaced). `Expect: 100-continue`
// is answered before the body is read.
//
// Requests are checked as RFC 9112 requires, and refused with the connection closed:
//   400  malformed syntax; whitespace between a field name and its colon; obs-fold (a
//        line starting with whitespace); a CR, LF, NUL or other control character in a
//        field value; a missing (HTTP/1.1) or repeated Host; an invalid or repeated
//        Content-Length; Content-Length together with Transfer-Encoding; a
//        Transfer-Encoding that does not end in chunked, or in HTTP/1.0;
//   408  the head or body did not arrive before its deadline (server_options);
//   413  a body over max_body_size;   414  a request line over max_request_line;
//   431  a header section over max_header_size / max_header_count;
//   501  an unknown method, CONNECT (no tunnels), or a transfer coding other than
//        chunked (gzip, ...);
//   505  an HTTP version other than 1.x.
// A handler that throws, or returns a response that cannot be sent (a status outside
// 200-999), gets 500 and the connection is kept; an I/O error ends only its connection.
//
// Returns when drained (server_control) or when the listener is closed (after closing
// every connection). The listener stays owned by the caller.
// Cancellation: cancelling serve() cancels every connection (and running handlers),
// closes their sockets, waits for them, and rethrows coring::cancelled.
// Errors: std::invalid_argument for an empty handler, max_connections 0 or a timeout of
// zero or less; std::system_error from accept() other than the listener being closed
// (EMFILE and similar resource errors are retried after a short pause instead).
//
// Example (examples/http_serve.cpp):
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     auto srv = tg.spawn(coring::http::serve(listener, handler), "http-server");
//     co_await do_work();
//     srv.cancel();  // shut the server down at once (server_control drains it gently)
//   });
task<void> serve(tcp_listener& listener, handler h, server_options opts);
// serve() with default server_options. (An overload, not a default argument: g++ 12
// destroys a defaulted class argument of a coroutine twice in some co_await forms.)
task<void> serve(tcp_listener& listener, handler h);
// serve() with a handler that reads request bodies as they arrive (streaming_handler, a
// router): the same behaviour, cancellation and errors.
task<void> serve(tcp_listener& listener, streaming_handler h, server_options opts);
task<void> serve(tcp_listener& listener, streaming_handler h);

// ---- routing ----

// Maps method + path pattern to a handler: give it to serve() (it is a streaming_handler).
// A pattern is '/'-separated segments, each a literal ("users") matched against the
// percent-decoded request segment, a parameter "{name}" matching any one non-empty
// segment, or, as the last segment, "{name...}" matching the rest of the path (zero or
// more segments, '/' kept). Matched values go, decoded, into request::params. Routes are
// tried in the order added; the first whose method and pattern match answers. A path no
// pattern matches gets 404; a path that matches only with other methods gets 405 with an
// Allow header listing them. A GET route answers HEAD too. A path segment with a malformed
// %-escape gets 400.
//
// Example (examples/http_router.cpp):
//   coring::http::router rt;
//   rt.route("GET", "/users/{id}", get_user).route("PUT", "/users/{id}", put_user);
//   rt.route("GET", "/files/{path...}", get_file);
//   tg.spawn(coring::http::serve(l, rt));
//   // GET /users/7 -> get_user with req.params.get("id") == "7"
//   // DELETE /users/7 -> 405, Allow: GET, HEAD, PUT;  GET /nope -> 404
class router {
 public:
  // Adds a route with a whole-body handler (the body read up to max_body_size first).
  // Errors: std::invalid_argument when the method is not a token, the pattern does not
  // start with '/', a '{' is not closed, a parameter name is empty or repeated, "{x...}"
  // is not last, or the handler is empty. Returns *this.
  router& route(std::string_view method, std::string_view pattern, handler h);
  // Adds a route whose handler reads the body itself. Errors: as above.
  router& route(std::string_view method, std::string_view pattern, streaming_handler h);

  // Answers one request (what serve() calls). Cancellation, errors: those of the handler.
  task<response> operator()(request& req, body_reader& body) const;

 private:
  struct segment {
    std::string text;    // a literal, or a parameter's name
    bool param = false;  // {text}
    bool rest = false;   // {text...}
  };
  struct entry {
    std::string method;
    std::vector<segment> pattern;
    streaming_handler h;
  };
  router& add(std::string_view method, std::string_view pattern, streaming_handler h);
  std::vector<entry> routes_;
};

// The standard reason phrase of a status code ("Not Found"), "Unknown" if there is none.
std::string_view reason_phrase(int status) noexcept;

}  // namespace coring::http
