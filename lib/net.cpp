#include "coring/net.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "coring/blocking.hpp"
#include "coring/detail/faults.hpp"

namespace coring {

// ---- endpoint ----

endpoint::endpoint() noexcept { std::memset(&addr_, 0, sizeof addr_); }

bool endpoint::try_parse(std::string_view host, std::uint16_t port, endpoint& out) noexcept {
  out = endpoint();
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char buf[INET6_ADDRSTRLEN + 1];
  if (host.size() >= sizeof buf) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr_);
  if (::inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len_ = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr_);
  if (::inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len_ = sizeof(sockaddr_in6);
    return true;
  }
  out = endpoint();
  return false;
}

endpoint endpoint::parse(std::string_view host, std::uint16_t port) {
  endpoint ep;
  if (!try_parse(host, port, ep))
    throw std::invalid_argument(fmt::format(
        "coring::endpoint: '{}' is not a numeric IPv4/IPv6 address; pass one like 127.0.0.1 or "
        "::1, or resolve the name with co_await coring::resolve(host, port)",
        host));
  return ep;
}

endpoint endpoint::parse(std::string_view host_port) {
  const auto bad = [&](const char* why) {
    return std::invalid_argument(fmt::format(
        "coring::endpoint: '{}' {}; expected host:port like 127.0.0.1:8080 or [::1]:8080",
        host_port, why));
  };
  std::size_t colon;
  if (!host_port.empty() && host_port.front() == '[') {
    const std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) throw bad("has no closing ']'");
    colon = close + 1;
    if (colon >= host_port.size() || host_port[colon] != ':') throw bad("has no port");
  } else {
    colon = host_port.rfind(':');
    if (colon == std::string_view::npos) throw bad("has no port");
    if (host_port.find(':') != colon) throw bad("is an IPv6 address without brackets");
  }
  const std::string_view p = host_port.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || port > 65535)
    throw bad("has an invalid port");
  return parse(host_port.substr(0, colon), static_cast<std::uint16_t>(port));
}

endpoint endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  endpoint ep;
  if (len > sizeof ep.addr_) throw std::invalid_argument("coring::endpoint: address too long");
  std::memcpy(&ep.addr_, sa, len);
  ep.len_ = len;
  return ep;
}

std::uint16_t endpoint::port() const noexcept {
  if (addr_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr_)->sin_port);
  if (addr_.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr_)->sin6_port);
  return 0;
}

void endpoint::set_port(std::uint16_t p) noexcept {
  if (addr_.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr_)->sin_port = htons(p);
  if (addr_.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr_)->sin6_port = htons(p);
}

std::string endpoint::address() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr_.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr_)->sin_addr, buf, sizeof buf);
  else if (addr_.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr_)->sin6_addr, buf, sizeof buf);
  else
    return "?";
  return buf;
}

std::string endpoint::to_string() const {
  if (addr_.ss_family == AF_INET6) return fmt::format("[{}]:{}", address(), port());
  return fmt::format("{}:{}", address(), port());
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.addr_, &b.addr_, a.len_) == 0;
}

// ---- resolve ----

namespace {

class resolver_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "coring.resolver"; }
  std::string message(int ev) const override { return ::gai_strerror(ev); }
};

endpoint local_of(int fd) {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (::getsockname(fd, ep.data(), &len) < 0) throw_errno(-errno, fmt::format("getsockname fd {}", fd));
  ep.set_size(len);
  return ep;
}

// "127.0.0.1:80" for the peer of a connected socket, else this end's address, else "fd N".
std::string describe_socket(int fd) {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (fd >= 0 && ::getpeername(fd, ep.data(), &len) == 0) {
    ep.set_size(len);
    return ep.to_string();
  }
  len = endpoint::capacity();
  if (fd >= 0 && ::getsockname(fd, ep.data(), &len) == 0 && ep.port() != 0) {
    ep.set_size(len);
    return "local " + ep.to_string();
  }
  return fmt::format("fd {}", fd);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int open_socket(const endpoint& ep, int type, const char* what) {
  if (ep.family() != AF_INET && ep.family() != AF_INET6)
    throw std::invalid_argument(fmt::format("coring::{}: the endpoint is empty; make one with coring::endpoint::parse", what));
  const int injected = detail::faults::socket_error();
  const int fd = injected ? (errno = injected, -1) : ::socket(ep.family(), type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(-errno, fmt::format("socket for {}", ep.to_string()));
  return fd;
}

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const resolver_category_impl cat;
  return cat;
}

task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port) {
  endpoint ep;
  if (endpoint::try_parse(host, port, ep)) co_return std::vector<endpoint>{ep};
  struct answer {
    int rc = 0;
    int err = 0;
    std::vector<endpoint> eps;
  };
  answer a = co_await run_blocking([&host, port]() {
    answer r;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    r.rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    r.err = errno;
    if (r.rc != 0) return r;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      endpoint e = endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
      e.set_port(port);
      r.eps.push_back(e);
    }
    ::freeaddrinfo(res);
    return r;
  });
  if (a.rc == EAI_SYSTEM) throw_errno(-a.err, "resolve " + host);
  if (a.rc != 0) throw std::system_error(a.rc, resolver_category(), "resolve " + host);
  if (a.eps.empty())
    throw std::system_error(EAI_NONAME, resolver_category(), "resolve " + host + " (no IPv4/IPv6 address)");
  co_return std::move(a.eps);
}

namespace detail {

void throw_socket_error(int res, const char* op, int fd) {
  throw_errno(res, fmt::format("{} {}", op, describe_socket(fd)));
}

// ---- datagram ops ----

datagram finish_recvfrom(int res, int fd, datagram_msg& m) {
  if (res < 0) throw_socket_error(res, "recvfrom", fd);
  datagram d;
  const auto n = static_cast<std::size_t>(res);
  d.truncated = n > m.iov.iov_len;
  d.size = d.truncated ? m.iov.iov_len : n;
  // The kernel writes the sender's address; its length follows from the family.
  if (m.addr.family() == AF_INET) m.addr.set_size(sizeof(sockaddr_in));
  else if (m.addr.family() == AF_INET6) m.addr.set_size(sizeof(sockaddr_in6));
  d.from = m.addr;
  return d;
}

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

tcp_listener tcp_listener::bind(const endpoint& ep, int backlog) {
  const int fd = open_socket(ep, SOCK_STREAM, "tcp_listener::bind");
  auto st = std::make_unique<detail::listener_state>();
  st->fd = fd;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  set_nodelay(fd);  // inherited by accepted sockets
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
  st->local = local_of(fd);
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
    detail::close_fd_now(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

task<tcp_stream> tcp_stream::connect(endpoint ep) {
  tcp_stream s(open_socket(ep, SOCK_STREAM, "tcp_stream::connect"));
  set_nodelay(s.fd_);
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
    const std::size_t n = co_await detail::recv_op(fd_, buf.data() + got, buf.size() - got, MSG_WAITALL);
    if (n == 0)
      throw_errno(-ECONNRESET, fmt::format("read_exact {}: connection closed by peer after {} of {} bytes",
                                           describe_socket(fd_), got, buf.size()));
    got += n;
  }
}

task<void> tcp_stream::read_exact(std::span<std::byte> buf) {
  return read_exact(std::span<char>(reinterpret_cast<char*>(buf.data()), buf.size()));
}

task<void> tcp_stream::write_all(std::string_view data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const std::size_t n = co_await detail::send_op(fd_, data.data() + sent, data.size() - sent, MSG_WAITALL);
    if (n == 0) throw_errno(-EPIPE, fmt::format("send {}", describe_socket(fd_)));
    sent += n;
  }
}

task<void> tcp_stream::write_all(std::span<const std::byte> data) {
  return write_all(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

endpoint tcp_stream::local_endpoint() const { return local_of(fd_); }

endpoint tcp_stream::peer_endpoint() const {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (::getpeername(fd_, ep.data(), &len) < 0) throw_errno(-errno, fmt::format("getpeername fd {}", fd_));
  ep.set_size(len);
  return ep;
}


// ---- provided buffer ring + multishot recv ----

namespace detail {

struct multishot_state : request, hook<starved_tag> {
  struct chunk {
    unsigned bid;
    unsigned len;
    unsigned off;
  };
  int fd = -1;
  recv_buffer_pool* pool = nullptr;
  std::deque<chunk> ready;
  std::size_t bytes = 0;
  multishot_reader::read_op* reader = nullptr;
  int error = 0;
  bool eof = false;
  bool closing = false;

  multishot_state() noexcept : request(&on_cqe, nullptr) {}

  static constexpr unsigned no_buffer = ~0u;
  unsigned own_bid = no_buffer;  // plain-receive fallback: the buffer the recv fills

  void arm() {
    if (pool->ring_registered()) {
      submit(current_loop(), [this](io_uring_sqe* sqe) {
        io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = pool->group();
      });
      return;
    }
    // The kernel refused the buffer ring: one plain receive at a time into a buffer taken
    // from the pool's free list.
    if (!pool->take_free(own_bid)) {
      pool->wait_for_buffer(*this);
      return;
    }
    submit(current_loop(), [this](io_uring_sqe* sqe) {
      io_uring_prep_recv(sqe, fd, pool->buffer(own_bid), pool->buffer_size(), 0);
    });
  }
  bool can_arm() const noexcept { return !live() && !closing && !eof && !error; }

  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
    auto* self = static_cast<multishot_state*>(r);
    const int res = cqe.res;
    const bool selected = cqe.flags & IORING_CQE_F_BUFFER;
    if (selected || self->own_bid != no_buffer) {
      const unsigned bid = selected ? cqe.flags >> IORING_CQE_BUFFER_SHIFT : std::exchange(self->own_bid, no_buffer);
      if (res > 0 && !self->closing) {
        self->ready.push_back({bid, static_cast<unsigned>(res), 0});
        self->bytes += static_cast<unsigned>(res);
      } else {
        self->pool->recycle(bid);
      }
    }
    if (res == 0) {
      self->eof = true;
    } else if (res == -ENOBUFS) {
      // The pool is dry: start again when a buffer comes back.
      if (!self->closing) self->pool->wait_for_buffer(*self);
    } else if (res < 0 && res != -ECANCELED && !self->closing) {
      self->error = res;
    }
    if (self->reader && (!self->ready.empty() || self->eof || self->error)) {
      std::exchange(self->reader, nullptr)->wake_reader();
    } else if (self->reader && self->can_arm() && !self->linked() && res != -ENOBUFS) {
      self->arm();  // the kernel ended the multishot (e.g. CQ overflow): keep receiving
    }
  }
};

}  // namespace detail

namespace {
thread_local std::uint16_t tl_next_bgid = 0x6300;
}

recv_buffer_pool::recv_buffer_pool(unsigned count, unsigned size)
    : lp_(&detail::current_loop()), count_(count), size_(size) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0)
    throw std::invalid_argument(fmt::format("coring::recv_buffer_pool: count {} must be a power of two in 1..32768", count));
  if (size == 0 || size > (1u << 30))
    throw std::invalid_argument(fmt::format("coring::recv_buffer_pool: buffer size {} must be in 1..2^30", size));
  const std::size_t ring_bytes = std::max<std::size_t>(count * sizeof(io_uring_buf), 4096);
  if (::posix_memalign(&ring_mem_, 4096, ring_bytes) != 0) throw std::bad_alloc();
  const std::size_t data_bytes = (static_cast<std::size_t>(count) * size + 63) / 64 * 64;
  data_ = static_cast<char*>(std::aligned_alloc(64, data_bytes));
  if (!data_) {
    std::free(ring_mem_);
    throw std::bad_alloc();
  }
  auto* br = static_cast<io_uring_buf_ring*>(ring_mem_);
  io_uring_buf_ring_init(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_mem_);
  reg.ring_entries = count;
  int r = -EEXIST;
  for (int tries = 0; tries < 256 && r == -EEXIST; ++tries) {
    bgid_ = tl_next_bgid++;
    reg.bgid = bgid_;
    r = io_uring_register_buf_ring(lp_->uring().raw(), &reg, 0);
  }
  if (r < 0) {
    // Refused (a seccomp filter on io_uring_register, a kernel before 5.19): readers fall
    // back to one plain receive at a time, with the buffers handed out from a free list.
    registered_ = false;
    free_.reserve(count);
    for (unsigned i = count; i-- > 0;) free_.push_back(i);
    return;
  }
  registered_ = true;
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i)
    io_uring_buf_ring_add(br, buffer(i), size, static_cast<unsigned short>(i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(br, static_cast<int>(count));
}

recv_buffer_pool::~recv_buffer_pool() {
  if (registered_ && detail::this_thread().lp == lp_) io_uring_unregister_buf_ring(lp_->uring().raw(), bgid_);
  std::free(ring_mem_);
  std::free(data_);
}

bool recv_buffer_pool::take_free(unsigned& bid) noexcept {
  if (free_.empty()) return false;
  bid = free_.back();
  free_.pop_back();
  return true;
}

void recv_buffer_pool::recycle(unsigned bid) noexcept {
  if (registered_) {
    auto* br = static_cast<io_uring_buf_ring*>(ring_mem_);
    io_uring_buf_ring_add(br, buffer(bid), size_, static_cast<unsigned short>(bid), io_uring_buf_ring_mask(count_), 0);
    io_uring_buf_ring_advance(br, 1);
  } else {
    free_.push_back(bid);  // reserved to `count`: never allocates
  }
  if (detail::multishot_state* st = starved_.pop_front())
    if (st->can_arm()) st->arm();
}

void recv_buffer_pool::wait_for_buffer(detail::multishot_state& st) noexcept { starved_.push_back(st); }

multishot_reader::multishot_reader(tcp_stream& stream, recv_buffer_pool& pool)
    : st_(std::make_unique<detail::multishot_state>()) {
  st_->fd = stream.native_handle();
  st_->pool = &pool;
}

multishot_reader::multishot_reader(multishot_reader&&) noexcept = default;

multishot_reader::~multishot_reader() {
  if (!st_) return;
  detail::multishot_state& st = *st_;
  st.closing = true;
  st.unlink();
  const bool settled = st.settle();
  for (const auto& c : st.ready) st.pool->recycle(c.bid);
  st.ready.clear();
  if (!settled) (void)st_.release();  // the kernel may still name it: never free it
}

multishot_reader::read_op multishot_reader::read_some(std::span<char> buf) noexcept {
  return read_op(st_.get(), buf.data(), buf.size());
}
multishot_reader::read_op multishot_reader::read_some(void* data, std::size_t n) noexcept {
  return read_op(st_.get(), static_cast<char*>(data), n);
}
std::size_t multishot_reader::buffered() const noexcept { return st_ ? st_->bytes : 0; }

multishot_reader::read_op::~read_op() {
  if (st_ && st_->reader == this) st_->reader = nullptr;
}

bool multishot_reader::read_op::await_ready() {
  if (!st_) throw std::logic_error("coring::multishot_reader::read_some: the reader is empty (moved from)");
  if (detail::running_task()->cancelled()) {
    refused = true;
    return true;
  }
  if (!st_->ready.empty() || st_->eof || st_->error) return true;
  if (st_->can_arm() && !st_->linked()) st_->arm();
  return false;
}

bool multishot_reader::read_op::await_suspend(std::coroutine_handle<> h) {
  if (st_->reader)
    throw std::logic_error("coring::multishot_reader::read_some: another task is already reading; one reader at a time");
  if (!park(h, &on_abort, "multishot recv")) return false;
  st_->reader = this;
  return true;
}

void multishot_reader::read_op::on_abort(detail::wait_hook* w) noexcept {
  auto* self = static_cast<read_op*>(static_cast<detail::waiter*>(w));
  if (self->st_->reader == self) self->st_->reader = nullptr;
  self->wake(false);
}

std::size_t multishot_reader::read_op::await_resume() {
  done_waiting();
  if (refused || aborted) throw cancelled{};  // anything received stays queued
  detail::multishot_state& st = *st_;
  std::size_t got = 0;
  while (got < n_ && !st.ready.empty()) {
    auto& c = st.ready.front();
    const std::size_t k = std::min<std::size_t>(c.len - c.off, n_ - got);
    std::memcpy(buf_ + got, st.pool->buffer(c.bid) + c.off, k);
    c.off += static_cast<unsigned>(k);
    got += k;
    st.bytes -= k;
    if (c.off == c.len) {
      const unsigned bid = c.bid;
      st.ready.pop_front();
      st.pool->recycle(bid);
    }
  }
  if (got > 0 || n_ == 0) return got;
  if (st.error) detail::throw_socket_error(st.error, "recv", st.fd);
  return 0;  // end of stream
}

// ---- udp_socket ----

udp_socket& udp_socket::operator=(udp_socket&& o) noexcept {
  if (this != &o) {
    detail::close_fd_now(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

udp_socket udp_socket::bind(const endpoint& ep) {
  udp_socket u;
  u.fd_ = open_socket(ep, SOCK_DGRAM, "udp_socket::bind");
  if (::bind(u.fd_, ep.data(), ep.size()) < 0) throw_errno(-errno, "bind " + ep.to_string());
  return u;
}

udp_socket udp_socket::bind(std::string_view host, std::uint16_t port) { return bind(endpoint::parse(host, port)); }

std::uint16_t udp_socket::local_port() const { return local_of(fd_).port(); }
endpoint udp_socket::local_endpoint() const { return local_of(fd_); }

}  // namespace coring
