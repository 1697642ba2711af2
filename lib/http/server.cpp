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
#include "body.hpp"
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
  const streaming_handler& h;
  server_control* control;            // null once the control is destroyed
  semaphore slots;
  std::list<conn_state*> conns;
  cancel_scope* accepting = nullptr;  // the accept loop's scope (a drain cancels it)
  event changed;                      // set when a connection ends during a drain
  bool draining = false;
  time_point drain_deadline{};

  serve_state(const server_options& o, const streaming_handler& hh)
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

constexpr std::size_t read_chunk = 64 * 1024;  // one recv; also the most a request body piece holds

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
  const time_point deadline = detail::after(clock::now(), o.write_timeout() + detail::rate_allowance(data.size(), o.min_transfer_rate()));
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

// One connection: reads request heads, gives each request's body to its handler as a
// body_source, writes the responses. Throws on I/O errors.
class connection_io final : public detail::body_source {
 public:
  connection_io(serve_state& st, conn_state& c, tcp_stream& s, const endpoint& peer, time_point accepted)
      : st_(st), o_(st.opts), stats_(o_.stats()), c_(c), s_(s), peer_(peer),
        mp_(HTTP_REQUEST, o_.max_body_size(),
            detail::head_limits{o_.max_request_line(), o_.max_header_size(), o_.max_header_count()}),
        buf_(read_chunk, '\0'), head_deadline_(detail::after(accepted, o_.header_timeout())) {
    mp_.set_streaming(true);
  }

  // Answers requests until either side ends the connection.
  task<void> run() {
    for (;;) {
      // (Not `while (co_await ...)`: g++ 12 miscompiles an await in a loop condition.)
      const bool have_request = co_await read_head();
      if (!have_request) co_return;
      const bool keep = co_await answer();
      if (!keep) co_return;
      mp_.next_message();
      first_ = false;
      idle_deadline_ = detail::after(clock::now(), o_.idle_timeout());
    }
  }

  // body_source: the current request's body, read from the socket as the handler asks.
  task<std::string_view> next() override {
    if (body_finished_) co_return std::string_view();
    mp_.clear_body();
    if (mp_.complete()) {  // no body, or its end was parsed with the head
      body_finished_ = true;
      co_return std::string_view();
    }
    unusable_ = true;  // until this read returns normally
    if (mp_.expects_continue() && !continue_sent_ && !mp_.complete()) {
      continue_sent_ = true;
      if (!co_await timed_write(s_, "HTTP/1.1 100 Continue\r\n\r\n", o_)) {
        count(stats_, &server_statistics::write_timeouts);
        throw protocol_error("coring::http: the client did not take the 100 Continue answer in time");
      }
    }
    for (;;) {
      if (begin_ < end_) {
        std::size_t used = 0;
        const event ev = mp_.feed(buf_.data() + begin_, end_ - begin_, used);
        begin_ += used;
        if (ev == event::error) {
          body_error_ = mp_.error_status();
          throw protocol_error(fmt::format("coring::http: malformed request body: {}", mp_.error_text()));
        }
        if (ev == event::message) body_finished_ = true;
        if (ev == event::message || !mp_.body_data().empty()) {
          unusable_ = false;
          received_ += mp_.body_data().size();
          co_return mp_.body_data();
        }
      }
      begin_ = end_ = 0;
      const time_point deadline = detail::after(body_start_, o_.body_timeout() + detail::rate_allowance(received_, o_.min_transfer_rate()));
      const std::optional<std::size_t> n = co_await timed_read(c_, s_, std::span<char>(buf_), deadline);
      if (!n) {
        body_error_ = 408;
        throw protocol_error("coring::http: the request body was not received in time");
      }
      if (*n == 0) {
        peer_closed_ = true;
        throw protocol_error("coring::http: the client closed the connection in the middle of the request body");
      }
      end_ = *n;
    }
  }
  std::optional<std::uint64_t> length() const noexcept override { return mp_.content_length(); }

 private:
  using event = detail::message_parser::event;

  // Reads the next request head into req_; false when the connection is to end (an
  // error was answered, a deadline passed, the client closed, a drain).
  task<bool> read_head() {
    for (;;) {
      if (begin_ == end_) {
        begin_ = end_ = 0;
        c_.idle = !mp_.started();
        if (c_.idle && st_.draining) co_return false;  // nothing in flight here: close at once
        const time_point deadline = c_.idle && !first_ ? idle_deadline_ : head_deadline_;
        const std::optional<std::size_t> n = co_await timed_read(c_, s_, std::span<char>(buf_), deadline);
        if (!n) {
          if (c_.idle && st_.draining) co_return false;
          if (c_.idle && !first_) {
            count(stats_, &server_statistics::idle_timeouts);
            co_return false;
          }
          count(stats_, &server_statistics::header_timeouts);
          co_await answer_and_close(s_, 408, "the request head was not received in time", o_);
          co_return false;
        }
        c_.idle = false;
        if (*n == 0) co_return false;  // the client closed (a half-sent request is dropped)
        end_ = *n;
      }
      if (!mp_.started() && !first_) head_deadline_ = detail::after(clock::now(), o_.header_timeout());
      std::size_t used = 0;
      const event ev = mp_.feed(buf_.data() + begin_, end_ - begin_, used);
      begin_ += used;
      if (ev == event::more) {
        begin_ = end_;
        continue;
      }
      if (ev == event::error) {
        count(stats_, &server_statistics::bad_requests);
        co_await answer_and_close(s_, mp_.error_status(), mp_.error_text(), o_);
        co_return false;
      }
      body_start_ = clock::now();
      req_ = mp_.take_request();
      req_.peer = peer_;
      body_finished_ = continue_sent_ = unusable_ = peer_closed_ = false;
      body_error_ = 0;
      received_ = 0;
      co_return true;
    }
  }

  // Runs the handler on req_ and writes its response; false when the connection ends.
  task<bool> answer() {
    body_reader body(*this, o_.max_body_size());
    response r;
    bool failed = false;
    std::optional<std::string> too_large;
    try {
      r = co_await st_.h(req_, body);
    } catch (const coring::cancelled&) {
      throw;
    } catch (const body_too_large& e) {
      too_large = e.what();
    } catch (...) {
      failed = true;  // answered below: no co_await inside a handler
    }
    // The request body broke the connection: that answer wins over the handler's.
    if (body_error_ != 0) {
      count(stats_, body_error_ == 408 ? &server_statistics::body_timeouts : &server_statistics::bad_requests);
      // (A named string: g++ 12 destroys a std::string temporary of a co_await expression twice.)
      const std::string why = body_error_ == 408 ? "the request body was not received in time" : mp_.error_text();
      co_await answer_and_close(s_, body_error_, why, o_);
      co_return false;
    }
    if (unusable_) {
      if (!peer_closed_) count(stats_, &server_statistics::connection_errors);
      co_return false;
    }
    if (too_large) {
      count(stats_, &server_statistics::bad_requests);
      co_await answer_and_close(s_, 413, *too_large, o_);
      co_return false;
    }
    if (!failed && detail::invalid_response(r)) failed = true;
    if (failed) {
      count(stats_, &server_statistics::handler_errors);
      r = response::text(500, "Internal Server Error\n");
    }
    const bool http10 = req_.version_major == 1 && req_.version_minor == 0;
    bool keep = mp_.keep_alive() && !wants_close(r.headers) && !st_.draining;
    if (!skip_unread_body()) keep = false;
    const bool head = req_.method == "HEAD";
    const detail::body_framing f = detail::response_framing(r, head, http10);
    if (!r.body_stream || f.how == detail::body_framing::none) {
      const std::string wire = detail::serialize_response(r, head, keep, http10, o_.server_name(), http_date());
      if (!co_await timed_write(s_, wire, o_)) {
        count(stats_, &server_statistics::write_timeouts);
        co_return false;
      }
    } else if (!co_await stream_response(r, f, keep, http10)) {
      co_return false;
    }
    count(stats_, &server_statistics::requests);
    if (!keep) {
      if (begin_ != end_ || !mp_.complete()) co_await linger_close(s_);  // data we will not read
      co_return false;
    }
    co_return true;
  }

  // The rest of a body the handler did not read is skipped when it is already buffered;
  // false when more is still to come (the connection then closes after the response).
  bool skip_unread_body() {
    while (!body_finished_ && begin_ < end_) {
      std::size_t used = 0;
      mp_.clear_body();
      const event ev = mp_.feed(buf_.data() + begin_, end_ - begin_, used);
      begin_ += used;
      if (ev == event::error) return false;
      if (ev == event::message) body_finished_ = true;
    }
    mp_.clear_body();
    return body_finished_;
  }

  // Writes a producer's body; false when the connection must end.
  task<bool> stream_response(response& r, detail::body_framing f, bool& keep, bool http10) {
    if (f.how == detail::body_framing::until_close) keep = false;
    body_writer w = detail::writer_access::make(s_, f, detail::serialize_head(r, keep, http10, o_.server_name(), http_date(), f),
                                                o_.write_timeout(), o_.min_transfer_rate());
    bool failed = false, timed_out = false;
    try {
      co_await detail::produce(w, r.body_stream);
    } catch (const coring::cancelled&) {
      throw;
    } catch (const timeout_error&) {
      timed_out = true;
    } catch (...) {
      failed = true;
    }
    if (timed_out) {
      count(stats_, &server_statistics::write_timeouts);
      co_return false;
    }
    if (!failed) co_return true;
    count(stats_, &server_statistics::handler_errors);
    if (detail::writer_access::started(w) || detail::writer_access::failed(w)) co_return false;  // a body is cut short
    const response err = response::text(500, "Internal Server Error\n");
    const std::string wire = detail::serialize_response(err, false, keep, http10, o_.server_name(), http_date());
    if (!co_await timed_write(s_, wire, o_)) {
      count(stats_, &server_statistics::write_timeouts);
      co_return false;
    }
    co_return true;
  }

  serve_state& st_;
  const server_options& o_;
  server_statistics* stats_;
  conn_state& c_;
  tcp_stream& s_;
  const endpoint& peer_;
  detail::message_parser mp_;
  std::string buf_;
  std::size_t begin_ = 0, end_ = 0;  // unparsed bytes in buf_
  bool first_ = true;                // the connection's first request: its head deadline runs from accept
  time_point head_deadline_, idle_deadline_{}, body_start_{};
  request req_;
  // The current request's body.
  std::uint64_t received_ = 0;
  int body_error_ = 0;          // a status to answer: the body was malformed (400) or late (408)
  bool body_finished_ = false;  // its last byte was parsed
  bool continue_sent_ = false;
  bool unusable_ = false;       // a body read failed or was cancelled
  bool peer_closed_ = false;    // the client closed in the middle of it
};

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
    connection_io io(st, guard.c, s, peer, accepted);
    co_await io.run();
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
  drain_until(detail::after(clock::now(), grace));
}

task<void> serve(tcp_listener& listener, handler h, server_options opts) {
  if (!h) throw std::invalid_argument("coring::http::serve: the handler is empty; pass a callable returning task<response>");
  return serve(listener, detail::whole_body(std::move(h)), std::move(opts));
}

task<void> serve(tcp_listener& listener, streaming_handler h, server_options opts) {
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

task<void> serve(tcp_listener& listener, streaming_handler h) { return serve(listener, std::move(h), server_options()); }

}  // namespace coring::http
