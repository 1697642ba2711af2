// The HTTP/1.1 client: URL handling, the keep-alive pool, one request/response exchange.
#include <algorithm>
#include <cerrno>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "coring/cancel.hpp"
#include "coring/errors.hpp"
#include "coring/http.hpp"
#include "framing.hpp"

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

// What one exchange learned besides the response, for the retry and reuse decisions.
struct exchange_info {
  bool got_bytes = false;  // some byte of the response arrived
  bool keep = false;       // the socket may be reused
};

// A response head may be larger than a request head (long Set-Cookie lists).
constexpr detail::head_limits response_limits{8 * 1024, 64 * 1024, 256};

// Sends `wire` and reads one response. Throws protocol_error / std::system_error.
task<response> exchange(tcp_stream& s, const std::string& wire, bool head, std::size_t max_body,
                        const std::string& what, exchange_info& info) {
  co_await s.write_all(wire);
  using event = detail::message_parser::event;
  detail::message_parser mp(HTTP_RESPONSE, max_body, response_limits);
  mp.skip_body = head;
  std::string buf(read_chunk, '\0');
  for (;;) {
    const std::size_t n = co_await s.read_some(std::span<char>(buf));
    event ev;
    std::size_t used = 0;
    if (n == 0) {
      if (!mp.started())
        throw protocol_error(fmt::format("{}: the server closed the connection without responding", what));
      ev = mp.feed_eof();
      if (ev == event::error && mp.head_done())
        throw protocol_error(fmt::format("{}: the server closed the connection before the response was complete", what));
    } else {
      info.got_bytes = true;
      ev = mp.feed(buf.data(), n, used);
    }
    if (ev == event::error)
      throw protocol_error(fmt::format("{}: invalid HTTP response: {}", what, mp.error_text()));
    if (ev == event::message) {
      // Bytes after the response (nothing was asked for) make the stream unusable.
      info.keep = n != 0 && used == n && mp.keep_alive();
      break;
    }
  }
  co_return mp.take_response();
}

}  // namespace

client::client(client_options opts) : opts_(std::move(opts)), slots_(0) {
  if (opts_.max_connections() == 0)
    throw std::invalid_argument("coring::http::client: max_connections is 0; allow at least 1 connection");
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

task<response> client::request(std::string method, std::string url, header_map headers, std::string body) {
  const std::chrono::milliseconds limit = opts_.timeout();
  if (limit <= std::chrono::milliseconds::zero())
    co_return co_await exchange_once(std::move(method), std::move(url), std::move(headers), std::move(body));
  std::string what = fmt::format("{} {}", method, url);
  std::optional<response> r = co_await move_on_after(
      limit, exchange_once(std::move(method), std::move(url), std::move(headers), std::move(body)));
  if (!r) throw timeout_error(fmt::format("{} timed out after {}", what, describe(limit)));
  co_return std::move(*r);
}

task<response> client::exchange_once(std::string method, std::string url, header_map headers, std::string body) {
  if (!detail::is_token(method))
    throw std::invalid_argument(fmt::format(
        "coring::http::request: method '{}' is not an HTTP token; use GET, POST, PUT, ...", method));
  const target t = parse_url(url);
  const bool head = method == "HEAD";

  // Serialize once: the whole request goes out in one send.
  std::string wire = fmt::format("{} {} HTTP/1.1\r\n", method, t.path);
  const auto add = [&](std::string_view name, std::string_view value) {
    wire += name;
    wire += ": ";
    wire += value;
    wire += "\r\n";
  };
  if (!headers.contains("Host")) add("Host", t.host_header);
  if (!headers.contains("User-Agent") && !opts_.user_agent().empty()) add("User-Agent", opts_.user_agent());
  if (!headers.contains("Accept")) add("Accept", "*/*");
  const bool framed = headers.contains("Content-Length") || headers.contains("Transfer-Encoding");
  if (!framed && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
    add("Content-Length", std::to_string(body.size()));
  bool may_keep = true;
  for (const auto& [name, value] : headers) {
    add(name, value);
    if (iequals(name, "Connection") && iequals(value, "close")) may_keep = false;
  }
  wire += "\r\n";
  wire += body;
  const std::string what = fmt::format("{} {}", method, url);

  // One permit per socket in use: at most max_connections requests hold one.
  semaphore::permit permit = co_await slots_.acquire();
  struct in_use_guard {
    client_statistics& s;
    explicit in_use_guard(client_statistics& st) : s(st) { ++s.in_use; }
    ~in_use_guard() { --s.in_use; }
  };

  for (int attempt = 0;; ++attempt) {
    tcp_stream s;
    bool reused = false;
    while (auto idle = take_idle(t.key)) {
      if (co_await still_open(*idle)) {
        s = std::move(*idle);
        reused = true;
        break;
      }
      ++stats_.stale_closed;  // closed by the server while idle: dropped (the destructor closes it)
    }
    if (!reused) make_room();
    in_use_guard guard(stats_);
    if (reused) {
      ++stats_.connections_reused;
    } else {
      s = co_await tcp_stream::connect(t.host, t.port);
      ++stats_.connections_opened;
    }

    exchange_info info;
    std::exception_ptr err;
    response r;
    try {
      r = co_await exchange(s, wire, head, opts_.max_body_size(), what, info);
    } catch (const std::system_error&) {
      err = std::current_exception();
    } catch (const protocol_error&) {
      err = std::current_exception();
    }
    if (err) {
      // A kept-alive socket the server closed meanwhile fails before any response byte:
      // the request was not processed, so an idempotent one is safe to send again. The
      // other idle sockets to that server are probably stale too.
      if (reused && !info.got_bytes && attempt == 0 && idempotent(method)) {
        drop_idle(t.key);
        ++stats_.retries;
        continue;  // `s` is closed by its destructor
      }
      std::rethrow_exception(err);
    }
    ++stats_.requests;
    if (info.keep && may_keep)
      put_idle(t.key, std::move(s), keep_alive_allowance(r.headers, opts_.idle_timeout()));
    else
      co_await s.close();
    r.method = std::move(method);
    r.url = std::move(url);
    co_return r;
  }
}

task<response> client::send(http::request r) {
  return request(std::move(r.method), std::move(r.target), std::move(r.headers), std::move(r.body));
}

task<response> client::get(std::string url, header_map headers) {
  return request("GET", std::move(url), std::move(headers));
}

task<response> client::post(std::string url, std::string body, header_map headers) {
  return request("POST", std::move(url), std::move(headers), std::move(body));
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
