// The HTTP/1.1 server: an accept loop in a task group, one child per connection, every
// phase of a connection under its own deadline, and a graceful drain.
#include <algorithm>
#include <cerrno>
#include <ctime>
#include <exception>
#include <list>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "coring/cancel.hpp"
#include "coring/errors.hpp"
#include "coring/event.hpp"
#include "coring/http.hpp"
#include "coring/task_group.hpp"
#include "coring/time.hpp"
#include "framing.hpp"

namespace coring::http {

namespace detail {

// One connection as the drain sees it.
struct conn_state {
  bool idle = true;               // no byte of a request yet: a drain closes it at once
  cancel_scope* wait = nullptr;   // the read in progress (a drain cancels an idle one)
};

// What one serve() call shares with its connections and its server_control.
struct serve_state {
  const server_options& opts;
  const handler& h;
  server_control* control;            // null once the control is destroyed
  semaphore slots;
  std::list<conn_state*> conns;
  cancel_scope* accepting = nullptr;  // the accept loop's scope (a drain cancels it)
  event changed;                      // set when a connection ends during a drain
  bool draining = false;
  time_point drain_deadline{};

  serve_state(const server_options& o, const handler& hh)
      : opts(o), h(hh), control(o.control()), slots(static_cast<std::ptrdiff_t>(o.max_connections())) {
    if (server_control* c = control) {
      c->servers_.push_back(this);
      if (c->draining_) start_drain(c->deadline_);
    }
  }
  ~serve_state() {
    if (control) std::erase(control->servers_, this);
  }
  serve_state(const serve_state&) = delete;
  serve_state& operator=(const serve_state&) = delete;

  void start_drain(time_point deadline) noexcept {
    if (draining && deadline >= drain_deadline) return;
    drain_deadline = deadline;
    if (std::exchange(draining, true)) return;
    if (accepting) accepting->cancel();
    for (conn_state* c : conns)
      if (c->idle && c->wait) c->wait->cancel();
    changed.set();
  }
};

}  // namespace detail

// A control destroyed while a server still runs just stops being able to drain it.
server_control::~server_control() {
  for (detail::serve_state* s : servers_) s->control = nullptr;
}

void server_control::drain_until(time_point deadline) {
  if (draining_ && deadline >= deadline_) return;
  deadline_ = deadline;
  draining_ = true;
  for (detail::serve_state* s : servers_) s->start_drain(deadline);
}

namespace {

using namespace std::chrono_literals;
using detail::conn_state;
using detail::serve_state;

constexpr std::size_t read_chunk = 16 * 1024;

// now + d, saturating: a timeout too large to represent means "in a century".
time_point after(time_point from, duration d) noexcept {
  constexpr duration far = std::chrono::hours(24 * 365 * 100);
  return from + std::min(d, far);
}

// The extra time a transfer of `bytes` earns at the slowest allowed rate.
duration rate_allowance(std::size_t bytes, const server_options& o) noexcept {
  if (o.min_transfer_rate() == 0) return duration::zero();
  return std::chrono::duration_cast<duration>(std::chrono::duration<double>(
      static_cast<double>(bytes) / static_cast<double>(o.min_transfer_rate())));
}

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

bool wants_close(const header_map& h) {
  auto c = h.get("Connection");
  return c && iequals(*c, "close");
}

void count(server_statistics* st, std::uint64_t server_statistics::*field) noexcept {
  if (st) ++(st->*field);
}

// Reads into `buf` before `deadline`. Nothing when the deadline passed, or when a drain
// cancelled this connection's wait for a request (c.wait is the scope a drain cancels).
task<std::optional<std::size_t>> timed_read(conn_state& c, tcp_stream& s, std::span<char> buf, time_point deadline) {
  cancel_scope scope;
  scope.set_deadline(deadline);
  struct publish {
    conn_state& c;
    publish(conn_state& cs, cancel_scope& sc) : c(cs) { c.wait = &sc; }
    ~publish() { c.wait = nullptr; }
  } pub(c, scope);
  try {
    co_return co_await s.read_some(buf);
  } catch (const coring::cancelled&) {
    if (!scope.owns_cancellation()) throw;
  }
  co_return std::nullopt;
}

// Writes all of `data` before now + write_timeout (+ its rate allowance); false when that
// deadline passed first (the connection is then unusable: part of a response may be out).
task<bool> timed_write(tcp_stream& s, std::string_view data, const server_options& o) {
  const time_point deadline = after(clock::now(), o.write_timeout() + rate_allowance(data.size(), o));
  co_return co_await move_on_at(deadline, s.write_all(data));
}

// Before closing with data still coming (an error answer, pipelined requests left
// unanswered): stop sending, then read and drop what the client still sends for a moment,
// so the close does not reset the connection before the client has read the answer.
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

// Sends a final error answer (400, 408, 413...) with Connection: close, then lingers.
task<void> answer_and_close(tcp_stream& s, int status, std::string_view why, const server_options& o) {
  const response r = response::text(status, fmt::format("{}: {}\n", reason_phrase(status), why));
  if (co_await timed_write(s, detail::serialize_response(r, false, false, false, o.server_name(), http_date()), o))
    co_await linger_close(s);
}

// Answers requests on one connection until either side ends it. Throws on I/O errors.
task<void> run_connection(serve_state& st, conn_state& c, tcp_stream& s, const endpoint& peer, time_point accepted) {
  const server_options& o = st.opts;
  server_statistics* stats = o.stats();
  using event = detail::message_parser::event;
  detail::message_parser mp(HTTP_REQUEST, o.max_body_size(),
                            detail::head_limits{o.max_request_line(), o.max_header_size(), o.max_header_count()});
  std::string buf(read_chunk, '\0');
  std::size_t begin = 0, end = 0;  // unparsed bytes in buf
  bool first = true;               // the connection's first request: its head deadline runs from accept
  time_point head_deadline = after(accepted, o.header_timeout());
  time_point idle_deadline{}, body_start{};
  for (;;) {
    if (begin == end) {
      begin = end = 0;
      c.idle = !mp.started();
      if (c.idle && st.draining) co_return;  // nothing in flight here: close at once
      time_point deadline = head_deadline;
      if (c.idle && !first) deadline = idle_deadline;
      if (mp.head_done()) deadline = after(body_start, o.body_timeout() + rate_allowance(mp.body_size(), o));
      const std::optional<std::size_t> n = co_await timed_read(c, s, std::span<char>(buf), deadline);
      if (!n) {
        if (c.idle && st.draining) co_return;
        if (c.idle && !first) {
          count(stats, &server_statistics::idle_timeouts);
          co_return;
        }
        const bool body = mp.head_done();
        count(stats, body ? &server_statistics::body_timeouts : &server_statistics::header_timeouts);
        co_await answer_and_close(s, 408, body ? "the request body was not received in time"
                                               : "the request head was not received in time", o);
        co_return;
      }
      c.idle = false;
      if (*n == 0) co_return;  // the client closed (a half-sent request is dropped)
      end = *n;
    }
    if (!mp.started() && !first) head_deadline = after(clock::now(), o.header_timeout());
    const bool had_head = mp.head_done();
    std::size_t used = 0;
    const event ev = mp.feed(buf.data() + begin, end - begin, used);
    begin += used;
    if (!had_head && mp.head_done()) body_start = clock::now();
    if (ev == event::more) {
      begin = end;
      continue;
    }
    if (ev == event::error) {
      count(stats, &server_statistics::bad_requests);
      co_await answer_and_close(s, mp.error_status(), mp.error_text(), o);
      co_return;
    }
    if (ev == event::expect_continue) {
      if (!co_await timed_write(s, "HTTP/1.1 100 Continue\r\n\r\n", o)) {
        count(stats, &server_statistics::write_timeouts);
        co_return;
      }
      continue;
    }

    // A whole request.
    request req = mp.take_request();
    req.peer = peer;
    bool keep = mp.keep_alive();
    const bool http10 = req.version_major == 1 && req.version_minor == 0;

    response r;
    bool failed = false;
    try {
      r = co_await st.h(req);
    } catch (const coring::cancelled&) {
      throw;
    } catch (...) {
      failed = true;  // answered below: no co_await inside a handler
    }
    if (!failed && detail::invalid_response(r)) failed = true;
    if (failed) {
      count(stats, &server_statistics::handler_errors);
      r = response::text(500, "Internal Server Error\n");
    }
    if (wants_close(r.headers) || st.draining) keep = false;
    const std::string wire = detail::serialize_response(r, req.method == "HEAD", keep, http10, o.server_name(), http_date());
    if (!co_await timed_write(s, wire, o)) {
      count(stats, &server_statistics::write_timeouts);
      co_return;
    }
    count(stats, &server_statistics::requests);
    if (!keep) {
      if (begin != end) co_await linger_close(s);  // pipelined requests we will not answer
      co_return;
    }
    mp.next_message();
    first = false;
    idle_deadline = after(clock::now(), o.idle_timeout());
  }
}

struct open_guard {
  serve_state& st;
  conn_state c;
  std::list<conn_state*>::iterator it;
  explicit open_guard(serve_state& s) : st(s), it(st.conns.insert(st.conns.end(), &c)) {
    if (st.opts.stats()) ++st.opts.stats()->open;
  }
  ~open_guard() {
    st.conns.erase(it);
    if (st.opts.stats()) --st.opts.stats()->open;
    if (st.draining) st.changed.set();
  }
};

task<void> connection(serve_state& st, tcp_stream s, semaphore::permit permit, time_point accepted) {
  open_guard guard(st);
  bool failed = false;
  try {
    const endpoint peer = s.peer_endpoint();
    co_await run_connection(st, guard.c, s, peer, accepted);
  } catch (const coring::cancelled&) {
    throw;  // the server is shutting down; the destructor closes the socket
  } catch (...) {
    failed = true;  // a reset or a vanished client ends this connection only
  }
  if (failed) count(st.opts.stats(), &server_statistics::connection_errors);
  co_await s.close();
  permit.release();  // only now may the accept loop take another connection
}

bool resource_shortage(int e) noexcept { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }

// Accepts until the listener is closed (returns) or a drain cancels it (throws cancelled).
// A permit is taken before accept(): at max_connections it waits, and the kernel keeps the
// next connections in the listen backlog.
task<void> accept_loop(serve_state& st, tcp_listener& listener, task_group& tg) {
  for (;;) {
    semaphore::permit permit = st.slots.try_acquire();
    if (!permit) {
      count(st.opts.stats(), &server_statistics::accept_waits);
      permit = co_await st.slots.acquire();
    }
    tcp_stream s;
    bool backoff = false;
    try {
      s = co_await listener.accept();
    } catch (const std::system_error& e) {
      if (!listener.is_open()) co_return;
      if (e.code().category() != std::system_category() || !resource_shortage(e.code().value())) throw;
      backoff = true;
    }
    if (backoff) {
      co_await sleep(50ms);
      continue;
    }
    count(st.opts.stats(), &server_statistics::connections);
    tg.spawn(connection(st, std::move(s), std::move(permit), clock::now()), "http-connection");
  }
}

task<void> wait_until_idle(serve_state& st) {
  while (!st.conns.empty()) {
    st.changed.clear();
    co_await st.changed.wait();
  }
}

void check_options(const server_options& o) {
  const auto bad = [](const char* what, const char* hint) {
    return std::invalid_argument(fmt::format("coring::http::serve: {}; {}", what, hint));
  };
  if (o.max_connections() == 0) throw bad("max_connections is 0", "allow at least 1 connection");
  for (auto [d, name] : {std::pair{o.header_timeout(), "header_timeout"}, std::pair{o.body_timeout(), "body_timeout"},
                         std::pair{o.write_timeout(), "write_timeout"}, std::pair{o.idle_timeout(), "idle_timeout"}})
    if (d <= std::chrono::milliseconds::zero())
      throw bad(fmt::format("{} is {} ms", name, d.count()).c_str(), "give every timeout a positive duration");
}

}  // namespace

void server_control::drain(std::chrono::milliseconds grace) {
  if (grace < std::chrono::milliseconds::zero())
    throw std::invalid_argument(fmt::format(
        "coring::http::server_control::drain: negative grace period {} ms; pass zero (cancel at once) or more",
        grace.count()));
  drain_until(after(clock::now(), grace));
}

task<void> serve(tcp_listener& listener, handler h, server_options opts) {
  if (!h) throw std::invalid_argument("coring::http::serve: the handler is empty; pass a callable returning task<response>");
  check_options(opts);
  serve_state st(opts, h);
  co_await with_task_group([&](task_group& tg) -> task<> {
    {
      cancel_scope accepting;
      struct publish {
        serve_state& st;
        publish(serve_state& s, cancel_scope& sc) : st(s) { st.accepting = &sc; }
        ~publish() { st.accepting = nullptr; }
      } pub(st, accepting);
      if (st.draining) accepting.cancel();
      try {
        co_await accept_loop(st, listener, tg);
      } catch (const coring::cancelled&) {
        if (!accepting.owns_cancellation()) throw;
      }
    }
    // Drained: in-flight requests finish (answered with Connection: close) until the
    // deadline. The listener closed: everything ends now.
    if (st.draining) {
      co_await move_on_at(st.drain_deadline, wait_until_idle(st));
      if (opts.stats()) opts.stats()->drain_cancelled += st.conns.size();
    }
    tg.cancel();
  });
}

task<void> serve(tcp_listener& listener, handler h) { return serve(listener, std::move(h), server_options()); }

}  // namespace coring::http
