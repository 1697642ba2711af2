// The HTTP/1.1 server: an accept loop in a task group, one child per connection.
#include <cerrno>
#include <ctime>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "coring/cancel.hpp"
#include "coring/errors.hpp"
#include "coring/http.hpp"
#include "coring/task_group.hpp"
#include "coring/time.hpp"
#include "parser.hpp"

namespace coring::http {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t read_chunk = 16 * 1024;

// The Date header, formatted at most once a second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local char buf[64] = {};
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return buf;
}

bool has_body(int status) noexcept { return status >= 200 && status != 204 && status != 304; }

// Serializes a response. The server frames the body itself, so the handler's own
// Content-Length / Transfer-Encoding / Connection fields are replaced.
std::string serialize(const response& r, bool head, bool keep, bool http10, const server_options& o) {
  std::string_view reason = r.reason;
  if (reason.empty() || reason.find_first_of("\r\n") != std::string_view::npos) reason = reason_phrase(r.status);
  std::string out;
  out.reserve(128 + r.body.size());
  out += fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason);
  const auto add = [&](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  for (const auto& [name, value] : r.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection")) continue;
    add(name, value);
  }
  if (!o.server_name.empty() && !r.headers.contains("Server")) add("Server", o.server_name);
  if (!r.headers.contains("Date")) add("Date", http_date());
  if (has_body(r.status)) add("Content-Length", std::to_string(r.body.size()));
  if (!keep)
    add("Connection", "close");
  else if (http10)
    add("Connection", "keep-alive");
  out += "\r\n";
  if (!head && has_body(r.status)) out += r.body;
  return out;
}

bool wants_close(const header_map& h) {
  auto c = h.get("Connection");
  return c && iequals(*c, "close");
}

// After an error answer: stop sending, then read (and drop) what the client still sends for
// a moment, so closing does not reset the connection before the client read the answer.
task<void> linger_close(tcp_stream& s) {
  try {
    co_await s.shutdown(SHUT_WR);
    char sink[4096];
    co_await move_on_after(500ms, [&]() -> task<> {
      std::size_t total = 0;
      for (;;) {
        const std::size_t n = co_await s.read_some(std::span<char>(sink));
        total += n;
        if (n == 0 || total > (std::size_t{1} << 20)) co_return;
      }
    }());
  } catch (const std::system_error&) {
    // The client is gone already: nothing to linger for.
  }
}

struct open_guard {
  server_statistics* s;
  explicit open_guard(server_statistics* st) : s(st) {
    if (s) ++s->open;
  }
  ~open_guard() {
    if (s) --s->open;
  }
};

// Answers requests on one connection until either side ends it. Throws on I/O errors.
task<void> run_connection(tcp_stream& s, const handler& h, const server_options& o, const endpoint& peer) {
  server_statistics* st = o.stats;
  detail::message_parser mp(HTTP_REQUEST, o.max_body_size);
  std::string buf(read_chunk, '\0');
  std::size_t begin = 0, end = 0;  // unparsed bytes in buf
  for (;;) {
    if (begin == end) {
      begin = end = 0;
      std::size_t n = 0;
      bool idle_expired = false;
      try {
        n = co_await with_timeout(o.idle_timeout, s.read_some(std::span<char>(buf)));
      } catch (const timeout_error&) {
        idle_expired = true;
      }
      if (idle_expired) co_return;  // a silent client: just close
      if (n == 0) co_return;        // the client closed (a half-sent request is dropped)
      end = n;
    }
    std::size_t used = 0;
    const auto ev = mp.feed(buf.data() + begin, end - begin, used);
    begin += used;
    using event = detail::message_parser::event;
    if (ev == event::more) {
      begin = end;
      continue;
    }
    if (ev == event::error) {
      if (st) ++st->bad_requests;
      const int status = mp.body_too_large() ? 413 : 400;
      response r = response::text(status, fmt::format("{}: {}\n", reason_phrase(status), mp.error_text()));
      co_await s.write_all(serialize(r, false, false, false, o));
      co_await linger_close(s);
      co_return;
    }
    if (ev == event::expect_continue) {
      co_await s.write_all(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
      mp.resume();
      continue;
    }

    // A whole request.
    request req;
    req.method = mp.method();
    req.target = std::move(mp.url);
    req.version_major = mp.version_major();
    req.version_minor = mp.version_minor();
    req.headers = std::move(mp.headers);
    req.body = std::move(mp.body);
    req.peer = peer;
    bool keep = mp.keep_alive();
    const bool http10 = req.version_major == 1 && req.version_minor == 0;

    response r;
    bool failed = false;
    try {
      r = co_await h(req);
    } catch (const coring::cancelled&) {
      throw;
    } catch (...) {
      failed = true;  // answered below: no co_await inside a handler
    }
    if (!failed && (r.status < 100 || r.status > 999)) failed = true;
    if (failed) {
      if (st) ++st->handler_errors;
      r = response::text(500, "Internal Server Error\n");
    }
    if (wants_close(r.headers)) keep = false;
    co_await s.write_all(serialize(r, req.method == "HEAD", keep, http10, o));
    if (st) ++st->requests;
    if (!keep) co_return;
    mp.next_message();
  }
}

task<void> connection(tcp_stream s, const handler& h, const server_options& o) {
  open_guard guard(o.stats);
  bool failed = false;
  try {
    const endpoint peer = s.peer_endpoint();
    co_await run_connection(s, h, o, peer);
  } catch (const coring::cancelled&) {
    throw;  // the server is shutting down; the destructor closes the socket
  } catch (...) {
    failed = true;  // a reset or a vanished client ends this connection only
  }
  if (failed && o.stats) ++o.stats->connection_errors;
  co_await s.close();
}

bool resource_shortage(int e) noexcept { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }

}  // namespace

task<void> serve(tcp_listener& listener, handler h, server_options opts) {
  if (!h) throw std::invalid_argument("coring::http::serve: the handler is empty; pass a callable returning task<response>");
  co_await with_task_group([&](task_group& tg) -> task<> {
    for (;;) {
      tcp_stream s;
      bool closed = false;
      bool backoff = false;
      try {
        s = co_await listener.accept();
      } catch (const std::system_error& e) {
        if (!listener.is_open())
          closed = true;
        else if (e.code().category() == std::system_category() && resource_shortage(e.code().value()))
          backoff = true;
        else
          throw;
      }
      if (closed) {
        tg.cancel();  // the listener was closed: end every connection and return
        co_return;
      }
      if (backoff) {
        co_await sleep(50ms);
        continue;
      }
      if (opts.stats) ++opts.stats->connections;
      tg.spawn(connection(std::move(s), h, opts), "http-connection");
    }
  });
}

task<void> serve(tcp_listener& listener, handler h) { return serve(listener, std::move(h), server_options()); }

}  // namespace coring::http
