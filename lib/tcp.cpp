// TCP: the listener (one multishot accept) and the stream.
#include "coring/tcp.hpp"

#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <exception>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "socket.hpp"

namespace coring {
namespace detail {

// ---- listener ----

// One multishot accept serves every accept() call. It is armed only while a task waits in
// accept() and is disarmed (cancelled) once `max_queued` connections wait in user space, so
// a server that stops accepting leaves further connections in the kernel's backlog, where
// `backlog` bounds them, instead of holding a descriptor for each.
struct listener_state : request {
  int fd = -1;
  endpoint local;
  std::deque<int> ready;                  // accepted, not yet taken
  ilist<accept_op, accept_tag> waiters;   // FIFO of suspended accept() calls
  int pending_error = 0;                  // an error nobody was waiting for
  std::size_t max_queued = tcp_listener::default_max_queued;
  tcp_listener::statistics stats;
  bool closed = false;

  listener_state() noexcept : request(&on_cqe, &on_settled) {}
  listener_state(const listener_state&) = delete;
  listener_state& operator=(const listener_state&) = delete;

  void arm() {
    submit(current_loop(), [this](io_uring_sqe* sqe) {
      io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
    });
  }
  // Arms the accept when a task needs a connection and none is queued; while a cancel of
  // the previous one is still in flight, on_settled arms it.
  void want_connection() {
    if (!live() && !busy() && !closed && fd >= 0) arm();
  }

  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
    auto* self = static_cast<listener_state*>(r);
    const int res = cqe.res;
    if (res >= 0) {
      ++self->stats.accepted;
      if (self->closed) {
        close_fd_now(res);
      } else if (accept_op* w = self->waiters.pop_front()) {
        w->deliver(res);
      } else {
        self->ready.push_back(res);
        // Enough parked: leave the rest in the kernel's backlog.
        if (self->ready.size() >= self->max_queued) self->cancel();
      }
      return;
    }
    if (self->closed) return;
    // A connection that died in the backlog is nobody's business; anything else (EMFILE,
    // ENFILE, ENOMEM...) ended the multishot and is reported to one accept() call. The
    // listener re-arms only for the next accept(), so a descriptor shortage cannot spin.
    const bool transient = res == -ECONNABORTED || res == -EINTR || res == -EAGAIN || res == -ECANCELED;
    if (transient) return;
    ++self->stats.errors;
    self->stats.last_error = -res;
    if (accept_op* w = self->waiters.pop_front())
      w->deliver(res);
    else
      self->pending_error = res;
  }

  static void on_settled(request* r) noexcept {
    auto* self = static_cast<listener_state*>(r);
    // The multishot ended (cancelled at the queue bound, an error, or the kernel stopped
    // it) while tasks still wait: keep accepting for them.
    if (!self->closed && !self->waiters.empty() && self->ready.empty()) self->arm_noexcept();
  }
  void arm_noexcept() noexcept {
    try {
      arm();
    } catch (const std::exception&) {
      // No SQE could be had: hand the failure to the waiting accept instead of hanging it.
      if (accept_op* w = waiters.pop_front()) w->deliver(-EBUSY);
    }
  }

  void close() noexcept {
    if (closed) return;
    closed = true;
    if (fd >= 0) {
      // shutdown(2) takes the socket out of LISTEN at once (releasing the port for a new
      // bind), even though the multishot accept still holds a reference to the file.
      ::shutdown(fd, SHUT_RDWR);
      cancel();
      close_fd_now(fd);
      fd = -1;
    }
    for (int f : ready) close_fd_now(f);
    ready.clear();
    pending_error = 0;
    while (accept_op* w = waiters.pop_front()) w->deliver(-EBADF);
  }
};

accept_op::~accept_op() {
  if (have_result_ && result_ >= 0) close_fd_now(result_);  // delivered but never taken
}

bool accept_op::await_ready() {
  if (running_task()->cancelled()) {
    refused = true;
    return true;
  }
  if (!st_->ready.empty()) {
    result_ = st_->ready.front();
    st_->ready.pop_front();
    have_result_ = true;
    return true;
  }
  if (st_->pending_error || st_->closed || st_->fd < 0) {
    result_ = st_->pending_error ? std::exchange(st_->pending_error, 0) : -EBADF;
    have_result_ = true;
    return true;
  }
  return false;
}

bool accept_op::await_suspend(std::coroutine_handle<> h) {
  if (!park(h, &on_abort, "accept")) return false;
  st_->want_connection();
  st_->waiters.push_back(*this);
  return true;
}

void accept_op::deliver(int fd_or_error) noexcept {
  result_ = fd_or_error;
  have_result_ = true;
  wake(true);
}

void accept_op::on_abort(wait_hook* w) noexcept {
  auto* self = static_cast<accept_op*>(static_cast<waiter*>(w));
  ilist<accept_op, accept_tag>::erase(*self);
  self->wake(false);
}

tcp_stream accept_op::await_resume() {
  done_waiting();
  if (refused || (aborted && !have_result_)) throw cancelled{};
  have_result_ = false;
  const int r = std::exchange(result_, -1);
  if (r == -EBADF && st_->closed)
    throw_errno(r, fmt::format("accept {}: listener closed", st_->local.to_string()));
  if (r < 0) throw_errno(r, "accept " + st_->local.to_string());
  return tcp_stream(r);
}

}  // namespace detail

// ---- tcp_listener ----

tcp_listener::tcp_listener() noexcept = default;
tcp_listener::tcp_listener(tcp_listener&&) noexcept = default;

tcp_listener& tcp_listener::operator=(tcp_listener&& o) noexcept {
  if (this != &o) {
    tcp_listener old(std::move(*this));  // closes the previous listener on scope exit
    st_ = std::move(o.st_);
  }
  return *this;
}

tcp_listener::~tcp_listener() {
  if (!st_) return;
  st_->close();
  // If the kernel may still post a CQE naming the state and we cannot wait for it here
  // (wrong thread, runtime gone), leak the small record rather than let the CQE hit freed
  // memory.
  if (!st_->settle()) (void)st_.release();
}

void tcp_listener::set_max_queued(std::size_t n) {
  if (n == 0)
    throw std::invalid_argument("coring::tcp_listener::set_max_queued: pass at least 1 (connections beyond it stay in the kernel backlog)");
  if (!st_) throw std::logic_error("coring::tcp_listener::set_max_queued: the listener is empty; create it with tcp_listener::bind");
  st_->max_queued = n;
}

std::size_t tcp_listener::max_queued() const noexcept { return st_ ? st_->max_queued : default_max_queued; }
tcp_listener::statistics tcp_listener::stats() const noexcept { return st_ ? st_->stats : statistics{}; }

listen_options& listen_options::backlog(int n) {
  if (n < 0)
    throw std::invalid_argument(fmt::format("coring::listen_options::backlog: {} is negative; pass 0 or more (default 1024)", n));
  backlog_ = n;
  return *this;
}

tcp_listener tcp_listener::bind(const endpoint& ep, int backlog) {
  listen_options opts;
  opts.backlog(backlog);
  return bind(ep, opts);
}

tcp_listener tcp_listener::bind(const endpoint& ep, const listen_options& opts) {
  const int backlog = opts.backlog();
  const int fd = detail::open_socket(ep, SOCK_STREAM, "tcp_listener::bind");
  auto st = std::make_unique<detail::listener_state>();
  st->fd = fd;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (opts.reuse_port() && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    const int e = errno;
    detail::close_fd_now(fd);
    st->fd = -1;
    throw_errno(-e, "setsockopt SO_REUSEPORT " + ep.to_string());
  }
  detail::set_nodelay(fd);  // inherited by accepted sockets
  if (::bind(fd, ep.data(), ep.size()) < 0) {
    const int e = errno;
    detail::close_fd_now(fd);
    st->fd = -1;
    throw_errno(-e, "bind " + ep.to_string());
  }
  if (::listen(fd, backlog) < 0) {
    const int e = errno;
    detail::close_fd_now(fd);
    st->fd = -1;
    throw_errno(-e, "listen " + ep.to_string());
  }
  st->local = detail::local_of(fd);
  tcp_listener l;
  l.st_ = std::move(st);
  return l;
}

tcp_listener tcp_listener::bind(std::string_view host, int port, int backlog) {
  if (port < 0 || port > 65535)
    throw std::invalid_argument(fmt::format("coring::tcp_listener::bind: port {} is out of range; pass 0..65535 (0 picks a free port)", port));
  return bind(endpoint::parse(host, static_cast<std::uint16_t>(port)), backlog);
}

tcp_listener tcp_listener::bind(std::string_view host_port) { return bind(endpoint::parse(host_port), 1024); }

detail::accept_op tcp_listener::accept() {
  if (!st_)
    throw std::logic_error("coring::tcp_listener::accept: the listener is empty (moved from or default-constructed); create it with tcp_listener::bind");
  return detail::accept_op(st_.get());
}

void tcp_listener::close() noexcept {
  if (st_) st_->close();
}

bool tcp_listener::is_open() const noexcept { return st_ && !st_->closed; }
std::uint16_t tcp_listener::local_port() const noexcept { return st_ ? st_->local.port() : 0; }
const endpoint& tcp_listener::local_endpoint() const noexcept {
  static const endpoint none;
  return st_ ? st_->local : none;
}
int tcp_listener::native_handle() const noexcept { return st_ ? st_->fd : -1; }
std::size_t tcp_listener::queued() const noexcept { return st_ ? st_->ready.size() : 0; }

// ---- tcp_stream ----

tcp_stream& tcp_stream::operator=(tcp_stream&& o) noexcept {
  if (this != &o) {
    detail::close_fd_now(release());
    fd_ = std::exchange(o.fd_, -1);
    read_prio_ = std::exchange(o.read_prio_, 0);
    data_left_ = std::exchange(o.data_left_, false);
    w_ = std::exchange(o.w_, nullptr);
  }
  return *this;
}

tcp_stream::~tcp_stream() { detail::close_fd_now(release()); }

int tcp_stream::release() noexcept {
  detail::stream_writer::release(std::exchange(w_, nullptr), true);
  return std::exchange(fd_, -1);
}

detail::close_op tcp_stream::close() noexcept {
  // The close SQE is queued behind a pending send, and the kernel takes SQEs in order.
  detail::stream_writer::release(std::exchange(w_, nullptr), false);
  return detail::close_op(std::exchange(fd_, -1));
}

task<tcp_stream> tcp_stream::connect(endpoint ep) {
  tcp_stream s(detail::open_socket(ep, SOCK_STREAM, "tcp_stream::connect"));
  detail::set_nodelay(s.fd_);
  co_await detail::connect_op(s.fd_, ep);
  co_return std::move(s);
}

task<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port) {
  endpoint ep;
  if (endpoint::try_parse(host, port, ep)) co_return co_await connect(ep);
  std::vector<endpoint> eps = co_await resolve(host, port);
  std::exception_ptr last;
  for (const endpoint& e : eps) {
    try {
      co_return co_await connect(e);
    } catch (const std::system_error&) {
      last = std::current_exception();
    }
  }
  std::rethrow_exception(last);
}

task<void> tcp_stream::read_exact(std::span<char> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    const std::size_t n = co_await receive(buf.data() + got, buf.size() - got, MSG_WAITALL);
    if (n == 0)
      throw_errno(-ECONNRESET, fmt::format("read_exact {}: connection closed by peer after {} of {} bytes",
                                           detail::describe_socket(fd_), got, buf.size()));
    got += n;
  }
}

task<void> tcp_stream::read_exact(std::span<std::byte> buf) {
  return read_exact(std::span<char>(reinterpret_cast<char*>(buf.data()), buf.size()));
}

task<void> tcp_stream::flush() {
  if (w_) {
    if (w_->busy()) co_await w_->idle();
    w_->check(fd_);
  }
  detail::throw_if_cancelled();
}

void tcp_stream::note_write() noexcept {
  read_prio_ = static_cast<std::uint16_t>(detail::current_loop().uring().recv_poll_first());
}

task<std::size_t> tcp_stream::write_some(std::string_view data) {
  co_await flush();
  note_write();
  co_return co_await detail::send_op(fd_, data.data(), data.size(), 0);
}

task<std::size_t> tcp_stream::write_some(std::span<const std::byte> data) {
  return write_some(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

task<void> tcp_stream::shutdown(int how) {
  co_await flush();
  co_await detail::shutdown_op(fd_, how);
}

task<void> tcp_stream::write_all(std::string_view data) {
  if (data.empty()) co_return;
  if (data.size() <= detail::stream_writer::max_copy && fd_ >= 0) {
    if (!w_) w_ = new detail::stream_writer(detail::current_loop());
    // The previous write's send goes first, and its outcome is this write's to report
    // (another task writing to the stream may have queued one again by the time we run).
    while (w_->busy()) co_await w_->idle();
    w_->check(fd_);
    detail::throw_if_cancelled();
    w_->append(fd_, data);
    note_write();
    co_return;
  }
  co_await flush();
  note_write();
  std::size_t sent = 0;
  while (sent < data.size()) {
    const std::size_t n = co_await detail::send_op(fd_, data.data() + sent, data.size() - sent, MSG_WAITALL);
    if (n == 0) throw_errno(-EPIPE, fmt::format("send {}", detail::describe_socket(fd_)));
    sent += n;
  }
}

task<void> tcp_stream::write_all(std::span<const std::byte> data) {
  return write_all(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

endpoint tcp_stream::local_endpoint() const { return detail::local_of(fd_); }

endpoint tcp_stream::peer_endpoint() const {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (::getpeername(fd_, ep.data(), &len) < 0) throw_errno(-errno, fmt::format("getpeername fd {}", fd_));
  ep.set_size(len);
  return ep;
}

}  // namespace coring
