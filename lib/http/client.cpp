// The HTTP/1.1 client: URL handling, the keep-alive pool, one request/response exchange.
#include <algorithm>
#include <cerrno>
#include <exception>
#include <limits>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "coring/cancel.hpp"
#include "coring/errors.hpp"
#include "coring/http.hpp"
#include "body.hpp"
#include "framing.hpp"
#include "gzip.hpp"

namespace coring::http {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

// What a URL names, ready for connecting and for the request line.
struct target {
  std::string host;         // for connect: "127.0.0.1", "::1", "example.org"
  std::uint16_t port = 80;
  std::string host_header;  // "127.0.0.1:8080", "[::1]:8080", "example.org"
  std::string path;         // "/a/b?c=d" (the fragment is dropped)
  std::string key;          // the pool key: "host:port"
};

target parse_url(const std::string& url) {
  http_parser_url u;
  http_parser_url_init(&u);
  const auto bad = [&](std::string_view why) {
    return std::invalid_argument(fmt::format(
        "coring::http: URL '{}' {}; pass an absolute URL like http://127.0.0.1:8080/path", url, why));
  };
  if (http_parser_parse_url(url.data(), url.size(), 0, &u) != 0) throw bad("does not parse");
  const auto part = [&](int f) -> std::string_view {
    if (!(u.field_set & (1u << f))) return {};
    return std::string_view(url).substr(u.field_data[f].off, u.field_data[f].len);
  };
  const std::string_view scheme = part(UF_SCHEMA);
  if (scheme.empty() || !(u.field_set & (1u << UF_HOST))) throw bad("has no scheme or host");
  if (iequals(scheme, "https"))
    throw std::invalid_argument(fmt::format(
        "coring::http: URL '{}': https is not supported (coring::http speaks plain http:// only, no TLS); "
        "use an http:// URL or put a TLS-terminating proxy in front",
        url));
  if (!iequals(scheme, "http")) throw bad(fmt::format("has scheme '{}'; only http:// is supported", scheme));
  if (u.field_set & (1u << UF_USERINFO)) throw bad("has user:password@ (not supported; send an Authorization header)");
  target t;
  t.host = std::string(part(UF_HOST));
  if (t.host.empty()) throw bad("has an empty host");
  if (u.field_set & (1u << UF_PORT)) {
    if (u.port == 0) throw bad("has port 0");
    t.port = u.port;
  }
  const bool v6 = t.host.find(':') != std::string::npos;
  const std::string h = v6 ? "[" + t.host + "]" : t.host;
  t.host_header = t.port == 80 ? h : fmt::format("{}:{}", h, t.port);
  t.key = fmt::format("{}:{}", h, t.port);
  t.path = std::string(part(UF_PATH));
  if (t.path.empty()) t.path = "/";
  if (u.field_set & (1u << UF_QUERY)) {
    t.path += '?';
    t.path += part(UF_QUERY);
  }
  return t;
}

// How long a socket may stay in the pool: the client's idle_timeout, shortened by the
// server's "Keep-Alive: timeout=N" (minus a second, so it is not reused as the server
// closes it).
duration keep_alive_allowance(const header_map& h, std::chrono::milliseconds idle) {
  duration d = idle;
  const auto ka = h.get("Keep-Alive");
  if (!ka) return d;
  const auto at = ka->find("timeout=");
  if (at == std::string_view::npos) return d;
  long long secs = 0;
  std::size_t i = at + 8, digits = 0;
  for (; i < ka->size() && (*ka)[i] >= '0' && (*ka)[i] <= '9' && digits < 9; ++i, ++digits)
    secs = secs * 10 + ((*ka)[i] - '0');
  if (digits == 0) return d;
  const duration server = std::chrono::seconds(secs);
  const duration margin = server > std::chrono::seconds(2) ? duration(std::chrono::seconds(1)) : server / 2;
  return std::min(d, server - margin);
}

// A pooled socket is reusable while the server has neither closed it nor sent anything
// (a peek that would block). One recv on the ring with MSG_PEEK | MSG_DONTWAIT.
task<bool> still_open(tcp_stream& s) {
  char byte;
  try {
    co_await coring::detail::recv_op(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  } catch (const std::system_error& e) {
    co_return e.code() == std::errc::resource_unavailable_try_again;
  }
  co_return false;  // EOF, or bytes nobody asked for
}

// "250 ms", "1 s", "1.5 s" for timeout messages.
std::string describe(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  if (d.count() > 1000) return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
  return fmt::format("{} ms", d.count());
}

bool idempotent(std::string_view m) noexcept {
  for (std::string_view x : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
    if (m == x) return true;
  return false;
}

// A response head may be larger than a request head (long Set-Cookie lists).
constexpr detail::head_limits response_limits{8 * 1024, 64 * 1024, 256};

// The request head (and a whole body) as sent: Host, User-Agent, Accept and the body's
// framing are added unless the caller gave them.
std::string request_wire(const http::request& r, const target& t, const client_options& o, bool& may_keep) {
  std::string wire = fmt::format("{} {} HTTP/1.1\r\n", r.method, t.path);
  const auto add = [&](std::string_view name, std::string_view value) {
    wire += name;
    wire += ": ";
    wire += value;
    wire += "\r\n";
  };
  const header_map& h = r.headers;
  if (!h.contains("Host")) add("Host", t.host_header);
  if (!h.contains("User-Agent") && !o.user_agent().empty()) add("User-Agent", o.user_agent());
  if (!h.contains("Accept")) add("Accept", "*/*");
  if (o.decompress() && !h.contains("Accept-Encoding")) add("Accept-Encoding", "gzip");
  const bool framed = h.contains("Content-Length") || h.contains("Transfer-Encoding");
  if (r.body_stream) {
    if (framed)
      throw std::invalid_argument(
          "coring::http: a request with body_stream gets its framing from body_length; drop its Content-Length / "
          "Transfer-Encoding headers");
    if (r.body_length)
      add("Content-Length", std::to_string(*r.body_length));
    else
      add("Transfer-Encoding", "chunked");
  } else if (!framed && (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH")) {
    add("Content-Length", std::to_string(r.body.size()));
  }
  may_keep = true;
  for (const auto& [name, value] : h) {
    add(name, value);
    if (iequals(name, "Connection") && iequals(value, "close")) may_keep = false;
  }
  wire += "\r\n";
  if (!r.body_stream) wire += r.body;
  return wire;
}

// Runs `t` under the client's timeout (none when zero or less); an expiry becomes a
// timeout_error naming the request.
template <class T>
task<T> under_timeout(std::chrono::milliseconds limit, std::string what, task<T> t) {
  if (limit <= std::chrono::milliseconds::zero()) co_return co_await std::move(t);
  std::optional<T> r = co_await move_on_after(limit, std::move(t));
  if (!r) throw timeout_error(fmt::format("{} timed out after {}", what, describe(limit)));
  co_return std::move(*r);
}

}  // namespace

namespace detail {

// One request/response on one connection, from sending the request to the end of the
// response body; the body_source of a streaming_response.
struct client_exchange final : body_source {
  client& c;
  std::string what;  // "GET http://..." for messages
  std::string key;   // the pool key
  semaphore::permit permit;
  tcp_stream s;
  bool in_use = false;    // counted in client_statistics::in_use
  bool may_keep = true;   // the request allows keep-alive
  duration allowance{};   // how long the socket may idle in the pool
  message_parser mp{HTTP_RESPONSE, std::numeric_limits<std::size_t>::max(), response_limits};
  std::string buf = std::string(read_chunk, '\0');
  std::size_t begin = 0, end = 0;  // unparsed bytes in buf
  bool finished = false;           // the body's last byte arrived
  std::unique_ptr<body_source> decoded;  // gzip
  std::optional<body_reader> reader;

  client_exchange(client& cl, std::string w, std::string k) : c(cl), what(std::move(w)), key(std::move(k)) {
    mp.set_streaming(true);
  }
  ~client_exchange() override { set_in_use(false); }
  client_exchange(const client_exchange&) = delete;
  client_exchange& operator=(const client_exchange&) = delete;

  void set_in_use(bool on) noexcept {
    if (on != in_use) on ? ++c.stats_.in_use : --c.stats_.in_use;
    in_use = on;
  }

  // Sends the request: `wire` (head and whole body), then the producer's body if any.
  task<void> send(const std::string& wire, const http::request& r) {
    if (!r.body_stream) {
      co_await s.write_all(wire);
      co_return;
    }
    const body_framing f{r.body_length ? body_framing::length : body_framing::chunked, r.body_length};
    body_writer w = writer_access::make(s, f, wire, std::chrono::milliseconds(0), 0);
    co_await produce(w, r.body_stream);
  }

  // Reads the response head; got_bytes tells whether any byte of it arrived.
  task<response> read_head(bool head_request, bool& got_bytes) {
    mp.skip_body = head_request;
    using event = message_parser::event;
    for (;;) {
      const std::size_t n = co_await s.read_some(std::span<char>(buf));
      if (n == 0) {
        if (!mp.started())
          throw protocol_error(fmt::format("{}: the server closed the connection without responding", what));
        mp.feed_eof();
        throw protocol_error(fmt::format("{}: invalid HTTP response: {}", what, mp.error_text()));
      }
      got_bytes = true;
      std::size_t used = 0;
      const event ev = mp.feed(buf.data(), n, used);
      begin = used;
      end = n;
      if (ev == event::error) throw protocol_error(fmt::format("{}: invalid HTTP response: {}", what, mp.error_text()));
      if (ev == event::head || ev == event::message) co_return mp.take_response();
    }
  }

  // body_source: the response body as it arrives.
  task<std::string_view> next() override {
    using event = message_parser::event;
    if (finished) co_return std::string_view();
    mp.clear_body();
    for (;;) {
      if (begin < end) {
        std::size_t used = 0;
        const event ev = mp.feed(buf.data() + begin, end - begin, used);
        begin += used;
        if (ev == event::error) throw protocol_error(fmt::format("{}: invalid HTTP response: {}", what, mp.error_text()));
        if (ev == event::message) {
          finish(true);
          co_return mp.body_data();
        }
        if (!mp.body_data().empty()) co_return mp.body_data();
      }
      begin = end = 0;
      const std::size_t n = co_await s.read_some(std::span<char>(buf));
      if (n == 0) {
        if (mp.feed_eof() != event::message)
          throw protocol_error(fmt::format("{}: the server closed the connection before the response was complete", what));
        finish(false);
        co_return mp.body_data();
      }
      end = n;
    }
  }
  std::optional<std::uint64_t> length() const noexcept override { return mp.content_length(); }

  // The body ended: the socket goes back to the pool if both sides keep it (and nothing
  // unasked-for follows the response), else it is closed; the slot is freed either way.
  void finish(bool may_reuse) noexcept {
    finished = true;
    if (may_reuse && may_keep && mp.keep_alive() && begin == end)
      c.put_idle(key, std::move(s), allowance);
    else
      tcp_stream closing(std::move(s));  // closed now
    set_in_use(false);
    permit.release();
  }
};

}  // namespace detail

client::client(client_options opts) : opts_(std::move(opts)), slots_(0) {
  if (opts_.max_connections() == 0)
    throw std::invalid_argument("coring::http::client: max_connections is 0; allow at least 1 connection");
  if (opts_.decompress() && !gzip_supported())
    throw std::invalid_argument(
        "coring::http::client: decompress(true) needs zlib, and this coring_http was built without it; install "
        "zlib1g-dev and rebuild, or leave decompress off");
  for (std::size_t i = 0; i < opts_.max_connections(); ++i) slots_.release();
}

client::~client() { close_idle(); }

void client::close_idle() noexcept {
  idle_.clear();  // tcp_stream destructors close the sockets
  idle_count_ = 0;
}

client_statistics client::statistics() const noexcept {
  client_statistics s = stats_;
  s.idle = idle_count_;
  return s;
}

std::optional<tcp_stream> client::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  auto& v = it->second;
  const time_point now = clock::now();
  std::optional<tcp_stream> out;
  while (!v.empty() && !out) {
    idle_conn c = std::move(v.back());
    v.pop_back();
    --idle_count_;
    if (now < c.expires) out.emplace(std::move(c.stream));
  }
  if (v.empty()) idle_.erase(it);
  return out;
}

void client::make_room() noexcept {
  if (idle_count_ == 0 || idle_count_ + stats_.in_use < opts_.max_connections()) return;
  auto oldest = idle_.end();
  for (auto it = idle_.begin(); it != idle_.end(); ++it)
    if (oldest == idle_.end() || it->second.front().since < oldest->second.front().since) oldest = it;
  auto& v = oldest->second;
  v.erase(v.begin());
  --idle_count_;
  if (v.empty()) idle_.erase(oldest);
}

void client::put_idle(const std::string& key, tcp_stream s, duration allowance) {
  const time_point now = clock::now();
  idle_[key].push_back(idle_conn{std::move(s), now, now + allowance});
  ++idle_count_;
}

void client::drop_idle(const std::string& key) noexcept {
  auto it = idle_.find(key);
  if (it == idle_.end()) return;
  idle_count_ -= it->second.size();
  idle_.erase(it);
}

// A kept-alive socket to t.key the server has not closed (checked by a peek), or a new one.
task<bool> client::connect_or_reuse(detail::client_exchange& x, const std::string& host, std::uint16_t port) {
  while (auto idle = take_idle(x.key)) {
    if (co_await still_open(*idle)) {
      x.s = std::move(*idle);
      ++stats_.connections_reused;
      co_return true;
    }
    ++stats_.stale_closed;  // closed by the server while idle: dropped (the destructor closes it)
  }
  make_room();
  x.s = co_await tcp_stream::connect(host, port);
  ++stats_.connections_opened;
  co_return false;
}

task<streaming_response> client::open_exchange(http::request r) {
  if (!detail::is_token(r.method))
    throw std::invalid_argument(fmt::format(
        "coring::http::request: method '{}' is not an HTTP token; use GET, POST, PUT, ...", r.method));
  // A 2xx answer to CONNECT turns the connection into a tunnel, which this client cannot
  // hand over: it would read the tunnelled bytes as a body. (The server refuses it too.)
  if (r.method == "CONNECT")
    throw std::invalid_argument("coring::http::request: CONNECT (a tunnel) is not supported; open a tcp_stream to the proxy instead");
  const target t = parse_url(r.target);
  bool may_keep = true;
  const std::string wire = request_wire(r, t, opts_, may_keep);  // serialized once: one send
  auto x = std::make_unique<detail::client_exchange>(*this, fmt::format("{} {}", r.method, r.target), t.key);
  x->may_keep = may_keep;
  // One permit per socket in use: at most max_connections requests hold one.
  x->permit = co_await slots_.acquire();
  response head;
  for (int attempt = 0;; ++attempt) {
    const bool reused = co_await connect_or_reuse(*x, t.host, t.port);
    x->set_in_use(true);
    bool got_bytes = false;
    std::exception_ptr err;
    try {
      co_await x->send(wire, r);
      head = co_await x->read_head(r.method == "HEAD", got_bytes);
    } catch (const std::system_error&) {
      err = std::current_exception();
    } catch (const protocol_error&) {
      err = std::current_exception();
    }
    if (!err) break;
    // A kept-alive socket the server closed meanwhile fails before any response byte:
    // the request was not processed, so an idempotent one is safe to send again. The
    // other idle sockets to that server are probably stale too.
    if (reused && !got_bytes && attempt == 0 && idempotent(r.method) && !r.body_stream) {
      drop_idle(t.key);
      ++stats_.retries;
      x->s = tcp_stream();  // closed
      x->mp.next_message();
      continue;
    }
    std::rethrow_exception(err);
  }
  ++stats_.requests;
  x->allowance = keep_alive_allowance(head.headers, opts_.idle_timeout());
  streaming_response out;
  out.status = head.status;
  out.reason = std::move(head.reason);
  out.headers = std::move(head.headers);
  out.method = std::move(r.method);
  out.url = std::move(r.target);
  detail::body_source* src = x.get();
  if (opts_.decompress() && out.method != "HEAD") {
    if (auto ce = out.headers.get("Content-Encoding"); ce && (iequals(*ce, "gzip") || iequals(*ce, "x-gzip"))) {
      x->decoded = detail::make_gzip_source(*x, x->what);
      src = x->decoded.get();
    }
  }
  x->reader.emplace(*src, opts_.max_body_size());
  if (x->mp.complete()) x->finish(true);  // no body: the socket is free now
  out.x_ = std::move(x);
  co_return out;
}

task<response> client::exchange_whole(http::request r) {
  streaming_response sr = co_await open_exchange(std::move(r));
  response out;
  out.body = co_await sr.body().read_all();
  out.status = sr.status;
  out.reason = std::move(sr.reason);
  out.headers = std::move(sr.headers);
  out.method = std::move(sr.method);
  out.url = std::move(sr.url);
  co_return out;
}

task<response> client::request(std::string method, std::string url, header_map headers, std::string body) {
  return send(http::request(std::move(method), std::move(url), std::move(headers), std::move(body)));
}

task<response> client::send(http::request r) {
  std::string what = fmt::format("{} {}", r.method, r.target);
  return under_timeout(opts_.timeout(), std::move(what), exchange_whole(std::move(r)));
}

task<streaming_response> client::stream(http::request r) {
  std::string what = fmt::format("{} {}", r.method, r.target);
  return under_timeout(opts_.timeout(), std::move(what), open_exchange(std::move(r)));
}

task<streaming_response> client::stream(std::string method, std::string url, header_map headers) {
  return stream(http::request(std::move(method), std::move(url), std::move(headers)));
}

task<response> client::get(std::string url, header_map headers) {
  return request("GET", std::move(url), std::move(headers));
}

task<response> client::post(std::string url, std::string body, header_map headers) {
  return request("POST", std::move(url), std::move(headers), std::move(body));
}

streaming_response::streaming_response() noexcept = default;
streaming_response::streaming_response(streaming_response&&) noexcept = default;
streaming_response& streaming_response::operator=(streaming_response&&) noexcept = default;
streaming_response::~streaming_response() = default;

void streaming_response::raise_for_status() const { detail::raise_for_status(status, reason, method, url); }

body_reader& streaming_response::body() {
  if (!x_)
    throw std::logic_error("coring::http::streaming_response::body: this response is empty (moved from or default-made)");
  return *x_->reader;
}

client& default_client() {
  thread_local client c;
  return c;
}

request::sender request::operator co_await() && { return sender(default_client().send(std::move(*this))); }

response request::sender::await_resume() { return std::move(t_).operator co_await().await_resume(); }

task<response> get(std::string url, header_map headers) {
  return default_client().get(std::move(url), std::move(headers));
}

}  // namespace coring::http
