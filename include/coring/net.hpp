// TCP and UDP sockets on the ring (layer 7).
//
// Usage — an echo server and a client (every call below is an io_uring operation):
//
//   coring::task<> serve(coring::tcp_listener& l) {
//     for (;;) {
//       coring::tcp_stream s = co_await l.accept();       // multishot accept underneath
//       tg.spawn(echo(std::move(s)), "conn");              // (with a task group)
//     }
//   }
//   coring::task<> echo(coring::tcp_stream s) {
//     char buf[4096];
//     for (;;) {
//       std::size_t n = co_await s.read_some(buf);         // 0: the peer closed
//       if (n == 0) break;
//       co_await s.write_all(std::string_view(buf, n));
//     }
//     co_await s.close();
//   }
//   auto l = coring::tcp_listener::bind("127.0.0.1", 0); // port 0: the kernel picks one
//   auto c = co_await coring::tcp_stream::connect("localhost", l.local_port());
//   co_await c.write_all("ping");
//   auto n = co_await coring::with_timeout(1s, c.read_some(buf));  // linked timeout: 1 SQE more
//
// Receiving with fewer SQEs: a multishot_reader keeps ONE multishot recv per connection in
// the kernel, filling buffers from a shared recv_buffer_pool (a provided buffer ring):
//
//   coring::recv_buffer_pool pool(256, 4096);        // once, inside the runtime
//   coring::multishot_reader in(s, pool);            // per connection; s outlives it
//   std::size_t n = co_await in.read_some(buf);      // copies from what already arrived
//
// Ownership: tcp_listener, tcp_stream and udp_socket own their descriptor (move-only) and
// close it in their destructor if it is still open, so a cancelled task never leaks one.
// They must be used and destroyed on the thread of the runtime that awaited them.
//
// Errors: std::system_error(errno, std::system_category()) whose what() names the call and
// the address: "connect 127.0.0.1:9: Connection refused", "recv 127.0.0.1:41234:
// Connection reset by peer". Bad arguments (an address that does not parse) are
// std::invalid_argument saying what is expected.
//
// Cancellation: every awaitable here is a cancellation point unless its comment says
// otherwise. read_some / write_some / connect's connect are single io_uring operations:
// with_timeout links an IORING_OP_LINK_TIMEOUT to them (one extra SQE, no extra system
// call), and a cancel that races a completed receive delivers the data (no lost results).
//
// Example (examples/net_echo.cpp):
//   auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // port 0: any free port
//   std::string echoed;
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn([&]() -> coring::task<> {  // the server: echo one message
//       coring::tcp_stream conn = co_await listener.accept();
//       char buf[64];
//       const std::size_t n = co_await conn.read_some(std::span(buf));
//       co_await conn.write_all(std::string_view(buf, n));
//     });
//     auto client = co_await coring::tcp_stream::connect("127.0.0.1", listener.local_port());
//     co_await client.write_all("ping");
//     char buf[64];
//     const std::size_t n = co_await coring::with_timeout(2s, client.read_some(std::span(buf)));
//     echoed.assign(buf, n);  // "ping"
//   });
//
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coring/detail/fd_ops.hpp"
#include "coring/detail/ilist.hpp"
#include "coring/detail/io_op.hpp"
#include "coring/task.hpp"

namespace coring {

// An IPv4 or IPv6 address with a port. Value type; printable as "127.0.0.1:80" or
// "[::1]:80".
class endpoint {
 public:
  endpoint() noexcept;
  // Parses a numeric address ("127.0.0.1", "::1", "[::1]"); "" and "*" mean 0.0.0.0 (all
  // interfaces), "localhost" means 127.0.0.1. Throws std::invalid_argument for anything
  // else (use coring::resolve for host names).
  static endpoint parse(std::string_view host, std::uint16_t port);
  // Parses "host:port" ("127.0.0.1:8080", "[::1]:8080", "localhost:80", ":8080").
  static endpoint parse(std::string_view host_port);
  // Like parse, but returns false instead of throwing when `host` is not numeric.
  static bool try_parse(std::string_view host, std::uint16_t port, endpoint& out) noexcept;
  static endpoint from_sockaddr(const sockaddr* sa, socklen_t len);

  int family() const noexcept { return addr_.ss_family; }
  std::uint16_t port() const noexcept;
  void set_port(std::uint16_t p) noexcept;
  std::string address() const;   // "127.0.0.1", "::1"
  std::string to_string() const;  // "127.0.0.1:80", "[::1]:80"
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&addr_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&addr_); }
  socklen_t size() const noexcept { return len_; }
  void set_size(socklen_t n) noexcept { len_ = n; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  friend bool operator==(const endpoint& a, const endpoint& b) noexcept;

 private:
  sockaddr_storage addr_;
  socklen_t len_ = 0;
};

// Resolves `host` (a name or a numeric address) with getaddrinfo on the blocking pool
// (coring::run_blocking), so the loop keeps running. Numeric addresses skip the pool.
// Returns the addresses in the resolver's preferred order (never empty).
// Cancellation: a cancellation point; a cancelled lookup still finishes on its worker
// thread (getaddrinfo cannot be interrupted) and then throws coring::cancelled.
// Errors: std::system_error in resolver_category() (the EAI_* code; the text is
// gai_strerror's): "resolve nowhere.invalid: Name or service not known".
//
//   auto eps = co_await coring::resolve("localhost", 8080);
task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port);

// The error category of resolve's failures (values are getaddrinfo's EAI_* codes).
const std::error_category& resolver_category() noexcept;

class tcp_stream;
class tcp_listener;

namespace detail {

// Throws std::system_error for a failed socket call: "<op> <peer address>: <strerror>".
[[noreturn]] void throw_socket_error(int res, const char* op, int fd);

// A result conversion for socket calls: returns the byte count, or throws
// "<what> <peer address>: <error>".
struct socket_bytes {
  const char* what;
  template <class... Rest>
  std::size_t operator()(int res, int fd, Rest&...) const {
    if (res < 0) throw_socket_error(res, what, fd);
    return static_cast<std::size_t>(res);
  }
};

// IORING_OP_RECV. Result: bytes received, 0 when the peer closed its side.
inline auto recv_op(int fd, void* buf, std::size_t len, int flags) {
  return make_op("recv", socket_bytes{"recv"}, &io_uring_prep_recv, fd, buf, std::size_t{clamp_io_length(len)}, flags);
}
using recv_op_t = decltype(recv_op(0, nullptr, 0, 0));

// IORING_OP_SEND with MSG_NOSIGNAL (a closed peer is EPIPE, never SIGPIPE). Result:
// bytes sent. Usually completes during the submit (the loop's batch mode counts on it).
inline auto send_op(int fd, const void* buf, std::size_t len, int flags) {
  return make_op<op_traits_inline>("send", socket_bytes{"send"}, &io_uring_prep_send, fd, buf,
                                   std::size_t{clamp_io_length(len)}, flags | MSG_NOSIGNAL);
}
using send_op_t = decltype(send_op(0, nullptr, 0, 0));

// IORING_OP_CONNECT to an address kept inside the op (the kernel reads it after submit).
inline auto connect_op(int fd, const endpoint& ep) {
  return make_op(
      "connect",
      [](int res, int, endpoint& to) {
        if (res < 0) throw_errno(res, "connect " + to.to_string());
      },
      [](io_uring_sqe* sqe, int fd, endpoint& to) { io_uring_prep_connect(sqe, fd, to.data(), to.size()); }, fd,
      ep);
}

// IORING_OP_SHUTDOWN.
inline auto shutdown_op(int fd, int how) {
  return make_op(
      "shutdown",
      [](int res, int fd, int) {
        if (res < 0) throw_socket_error(res, "shutdown", fd);
      },
      &io_uring_prep_shutdown, fd, how);
}
using shutdown_op_t = decltype(shutdown_op(0, 0));

// IORING_OP_SENDMSG / IORING_OP_RECVMSG for datagrams. The msghdr points into this record,
// which lives inside the op; it is filled at submit time, once the op no longer moves.
struct datagram_msg {
  endpoint addr;
  iovec iov{};
  msghdr msg{};
  void prepare(bool receiving) noexcept {
    msg = msghdr{};
    msg.msg_name = addr.data();
    msg.msg_namelen = receiving ? endpoint::capacity() : addr.size();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
  }
};

struct datagram {
  std::size_t size = 0;  // bytes stored in the buffer
  endpoint from;         // the sender
  bool truncated = false;  // the datagram was larger than the buffer (MSG_TRUNC)
};
datagram finish_recvfrom(int res, int fd, datagram_msg& m);

inline auto sendto_op(int fd, const void* buf, std::size_t len, const endpoint& to) {
  datagram_msg m;
  m.addr = to;
  m.iov.iov_base = const_cast<void*>(buf);
  m.iov.iov_len = len;
  return make_op(
      "sendto",
      [](int res, int, datagram_msg& m) -> std::size_t {
        if (res < 0) throw_errno(res, "sendto " + m.addr.to_string());
        return static_cast<std::size_t>(res);
      },
      [](io_uring_sqe* sqe, int fd, datagram_msg& m) {
        m.prepare(false);
        io_uring_prep_sendmsg(sqe, fd, &m.msg, MSG_NOSIGNAL);
      },
      fd, m);
}
using sendto_op_t = decltype(sendto_op(0, nullptr, 0, endpoint{}));

inline auto recvfrom_op(int fd, void* buf, std::size_t len) {
  datagram_msg m;
  m.iov.iov_base = buf;
  m.iov.iov_len = len;
  return make_op(
      "recvfrom", &finish_recvfrom,
      [](io_uring_sqe* sqe, int fd, datagram_msg& m) {
        m.prepare(true);
        io_uring_prep_recvmsg(sqe, fd, &m.msg, MSG_TRUNC);
      },
      fd, m);
}
using recvfrom_op_t = decltype(recvfrom_op(0, nullptr, 0));

struct listener_state;
struct accept_tag {};

// The awaiter of tcp_listener::accept(): takes a connection the multishot accept already
// queued, or waits in FIFO order for the next one.
class accept_op : public waiter, public hook<accept_tag> {
 public:
  explicit accept_op(listener_state* st) noexcept : st_(st) {}
  accept_op(accept_op&& o) noexcept : waiter(), hook<accept_tag>(), st_(o.st_) {}
  accept_op& operator=(accept_op&&) = delete;
  ~accept_op();
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  tcp_stream await_resume();

  // Called by the listener: hand over a connection (fd >= 0) or an error (-errno).
  void deliver(int fd_or_error) noexcept;

 private:
  static void on_abort(wait_hook* w) noexcept;
  listener_state* st_;
  int result_ = -1;
  bool have_result_ = false;
};

}  // namespace detail

// A connected TCP socket (TCP_NODELAY on). Move-only; the destructor closes the socket
// with close(2) if close() was not awaited.
class tcp_stream {
 public:
  tcp_stream() noexcept = default;
  // Adopts a connected socket descriptor.
  explicit tcp_stream(int fd) noexcept : fd_(fd) {}
  tcp_stream(tcp_stream&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  tcp_stream& operator=(tcp_stream&& o) noexcept;
  ~tcp_stream() { detail::close_fd_now(fd_); }

  // Connects to `host` (an IPv4/IPv6 literal or a host name, resolved on the blocking
  // pool) at `port`, trying each resolved address in turn.
  // Cancellation: a cancellation point; the half-made socket is closed.
  // Errors: std::system_error from the last address tried, e.g. "connect 127.0.0.1:9:
  // Connection refused"; resolve's errors for an unknown name.
  //
  //   auto s = co_await coring::tcp_stream::connect("127.0.0.1", 8080);
  static task<tcp_stream> connect(std::string host, std::uint16_t port);
  // Connects to one address.
  static task<tcp_stream> connect(endpoint ep);

  // Receives at most buf.size() bytes; returns how many, 0 when the peer closed its side
  // (then every further read returns 0). One IORING_OP_RECV.
  // Cancellation: cancel-safe: either bytes are returned or they stay in the socket.
  // Errors: std::system_error (ECONNRESET on a reset) "recv 127.0.0.1:80: ...".
  //
  //   std::size_t n = co_await s.read_some(std::span(buf));
  detail::recv_op_t read_some(std::span<char> buf) { return detail::recv_op(fd_, buf.data(), buf.size(), 0); }
  detail::recv_op_t read_some(std::span<std::byte> buf) { return detail::recv_op(fd_, buf.data(), buf.size(), 0); }
  detail::recv_op_t read_some(void* data, std::size_t n) { return detail::recv_op(fd_, data, n, 0); }

  // Fills the whole buffer. Uses MSG_WAITALL, so usually one operation.
  // Cancellation: NOT cancel-safe: bytes received before the cancel are in `buf`, but
  // how many is not reported; treat the stream as unusable after a cancelled read_exact.
  // Errors: a peer that closes before the buffer is full gives
  // std::system_error(ECONNRESET) "read_exact 127.0.0.1:80: connection closed by peer after
  // 3 of 8 bytes: Connection reset by peer"; otherwise as read_some.
  //
  //   std::array<char, 8> header; co_await s.read_exact(header);
  task<void> read_exact(std::span<char> buf);
  task<void> read_exact(std::span<std::byte> buf);

  // Sends at most data.size() bytes; returns how many. One IORING_OP_SEND.
  // Cancellation: cancel-safe (returns what was sent). Errors: EPIPE / ECONNRESET when the
  // peer is gone (never SIGPIPE).
  detail::send_op_t write_some(std::string_view data) { return detail::send_op(fd_, data.data(), data.size(), 0); }
  detail::send_op_t write_some(std::span<const std::byte> data) { return detail::send_op(fd_, data.data(), data.size(), 0); }

  // Sends all of `data` (MSG_WAITALL: usually one operation, looped on a short send).
  // Cancellation: NOT cancel-safe: part of the data may have been sent. Errors: as
  // write_some. The data must stay alive until the await finishes.
  //
  //   co_await s.write_all("GET / HTTP/1.1\r\n\r\n");
  task<void> write_all(std::string_view data);
  task<void> write_all(std::span<const std::byte> data);

  // Shuts down one or both directions (SHUT_WR by default: the peer reads end-of-stream
  // but can still send). Errors: ENOTCONN when not connected.
  detail::shutdown_op_t shutdown(int how = SHUT_WR) { return detail::shutdown_op(fd_, how); }

  // Closes the socket with IORING_OP_CLOSE. Not a cancellation point: the socket is
  // always closed (a pending cancellation surfaces at the next suspension point).
  // Closing an already closed stream does nothing.
  //
  //   co_await s.close();
  [[nodiscard]] detail::close_op close() noexcept { return detail::close_op(std::exchange(fd_, -1)); }

  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }
  // Gives up ownership of the descriptor.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Addresses of this end and of the peer (getsockname / getpeername; system_error).
  endpoint local_endpoint() const;
  endpoint peer_endpoint() const;

 private:
  int fd_ = -1;
};

// A listening TCP socket (SO_REUSEADDR, TCP_NODELAY inherited by accepted sockets) with ONE
// multishot accept in the kernel serving every accept() call. The multishot accept is armed
// when a task waits in accept() and nothing is queued; connections it takes while nobody
// waits are queued in user space until max_queued() of them (default 16) are there: then it
// is disarmed, and further connections wait in the kernel's listen backlog (bounded by
// `backlog`), so a server that limits its load by not accepting is not flooded with
// descriptors. (The kernel hands over what its backlog holds in one go, so a burst can
// queue up to max_queued() + backlog.) Queued connections are
// closed, not leaked, if the listener closes first. Move-only.
//
//   auto l = coring::tcp_listener::bind("0.0.0.0", 8080);
//   auto l2 = coring::tcp_listener::bind("[::1]:0");
class tcp_listener {
 public:
  tcp_listener() noexcept;
  tcp_listener(tcp_listener&&) noexcept;
  tcp_listener& operator=(tcp_listener&&) noexcept;
  // Closes the listener and waits (in the kernel) for the multishot accept to end; must
  // run on the runtime's thread while the runtime exists if accept() was ever awaited.
  ~tcp_listener();

  // Creates the socket, binds and listens (synchronous system calls: they never block).
  // `host` is numeric or "", "*" (all IPv4 interfaces), "localhost"; port 0 picks a free
  // port (see local_port()). Errors: std::system_error "bind 127.0.0.1:80: Permission
  // denied"; std::invalid_argument for a host name (resolve it first).
  // Errors also: std::invalid_argument for a port outside 0..65535.
  static tcp_listener bind(std::string_view host, int port, int backlog = 1024);
  // "host:port", e.g. "127.0.0.1:8080" or "[::]:0" (backlog 1024).
  static tcp_listener bind(std::string_view host_port);
  static tcp_listener bind(const endpoint& ep, int backlog = 1024);

  // Connections the listener takes from the kernel ahead of accept() calls.
  static constexpr std::size_t default_max_queued = 16;
  // Sets that bound (>= 1; std::invalid_argument otherwise). Larger values save a few SQEs
  // under bursts of connections; smaller ones leave more in the kernel's backlog.
  void set_max_queued(std::size_t n);
  std::size_t max_queued() const noexcept;

  // What the listener has seen: connections accepted from the kernel, accept failures that
  // were not transient (EMFILE, ENFILE, ENOMEM...; a connection reset in the backlog is not
  // counted), and the errno of the last one.
  struct statistics {
    std::uint64_t accepted = 0;
    std::uint64_t errors = 0;
    int last_error = 0;
  };
  statistics stats() const noexcept;

  // Waits for the next connection (FIFO among several awaiting tasks). The first call arms
  // the multishot accept; after that, accepting costs no SQE while connections keep coming.
  // Cancellation: a cancellation point; a connection that arrives for a cancelled accept
  // stays queued for the next one (nothing is lost or leaked).
  // Errors: std::system_error from the kernel, delivered to one awaiting accept() (or the
  // next one) and counted in stats(): EMFILE/ENFILE "accept 0.0.0.0:8080: Too many open
  // files" when the process is out of descriptors. The listener stays usable: the
  // connection waits in the backlog and the next accept() tries again, so after an EMFILE
  // free descriptors (or pause, e.g. co_await coring::sleep(10ms)) and call accept() again.
  // EBADF "accept 0.0.0.0:8080: listener closed" when the listener is closed (also for
  // tasks already waiting).
  //
  //   coring::tcp_stream s = co_await l.accept();
  detail::accept_op accept();

  // Stops listening at once and releases the port (shutdown(2), then cancels the multishot
  // accept and closes the socket); queued connections are closed; tasks waiting in accept()
  // get EBADF. Idempotent. Synchronous: no await needed, fine to call from a destructor.
  void close() noexcept;

  bool is_open() const noexcept;
  std::uint16_t local_port() const noexcept;
  const endpoint& local_endpoint() const noexcept;
  int native_handle() const noexcept;
  // Connections accepted by the kernel and not yet taken by accept().
  std::size_t queued() const noexcept;

 private:
  std::unique_ptr<detail::listener_state> st_;
};

// Receive buffers the kernel picks from (a provided buffer ring, IORING_REGISTER_PBUF_RING),
// for multishot receives: one SQE then serves every receive on a connection. Create it
// inside a running task; it belongs to that runtime's ring and must outlive every
// multishot_reader using it. `count` must be a power of two (1..32768). When the kernel
// refuses the buffer ring (Linux < 5.19, or a seccomp filter on io_uring_register), the
// pool still works: its readers make one plain receive at a time (ring_registered() says
// which). Errors: std::invalid_argument for a bad count or size.
//
//   coring::recv_buffer_pool pool(256, 4096);
//   coring::multishot_reader in(stream, pool);
//   std::size_t n = co_await in.read_some(buf);
namespace detail {
struct multishot_state;
struct starved_tag {};
}  // namespace detail

class recv_buffer_pool {
 public:
  explicit recv_buffer_pool(unsigned count = 256, unsigned size = 4096);
  ~recv_buffer_pool();
  recv_buffer_pool(const recv_buffer_pool&) = delete;
  recv_buffer_pool& operator=(const recv_buffer_pool&) = delete;

  unsigned count() const noexcept { return count_; }
  unsigned buffer_size() const noexcept { return size_; }
  std::uint16_t group() const noexcept { return bgid_; }
  // Used by multishot_reader: the bytes of buffer `bid`, and giving it back to the kernel.
  char* buffer(unsigned bid) noexcept { return data_ + static_cast<std::size_t>(bid) * size_; }
  void recycle(unsigned bid) noexcept;
  // A reader whose multishot ended for lack of buffers: re-armed when one comes back.
  void wait_for_buffer(detail::multishot_state& st) noexcept;
  // False when the kernel refused the buffer ring (a seccomp filter on io_uring_register,
  // Linux < 5.19): readers then make one plain receive at a time into buffers taken here.
  bool ring_registered() const noexcept { return registered_; }
  bool take_free(unsigned& bid) noexcept;

 private:
  detail::ilist<detail::multishot_state, detail::starved_tag> starved_;
  detail::loop* lp_;
  void* ring_mem_ = nullptr;
  char* data_ = nullptr;
  unsigned count_;
  unsigned size_;
  std::uint16_t bgid_ = 0;
  bool registered_ = false;
  std::vector<unsigned> free_;  // fallback only: buffers not lent to a receive
};

// A multishot receive on a tcp_stream: ONE IORING_OP_RECV (multishot, buffer select) stays
// in the kernel and queues every arrival; read_some() copies out of the queue. When the
// pool runs dry the kernel ends the multishot; it is re-armed as buffers are given back.
// The stream must outlive the reader; do not mix with tcp_stream::read_some on the same
// stream. Move-only; the destructor cancels the receive and waits (in the kernel) for it
// to end, so destroy it on the runtime's thread.
class multishot_reader {
 public:
  multishot_reader(tcp_stream& stream, recv_buffer_pool& pool);
  multishot_reader(multishot_reader&&) noexcept;
  multishot_reader& operator=(multishot_reader&&) = delete;
  ~multishot_reader();

  class read_op;
  // Like tcp_stream::read_some: returns up to buf.size() bytes, 0 at end of stream.
  // Cancellation: cancel-safe (received data stays queued for the next call). Not a single
  // io_uring operation, so with_timeout uses a cancel scope (no linked timeout).
  // Errors: std::system_error "recv 127.0.0.1:80: Connection reset by peer".
  read_op read_some(std::span<char> buf) noexcept;
  read_op read_some(void* data, std::size_t n) noexcept;

  // Bytes received and not yet read.
  std::size_t buffered() const noexcept;

 private:
  std::unique_ptr<detail::multishot_state> st_;
};

class multishot_reader::read_op : detail::waiter {
 public:
  read_op(detail::multishot_state* st, char* buf, std::size_t n) noexcept : st_(st), buf_(buf), n_(n) {}
  read_op(read_op&& o) noexcept : waiter(), st_(o.st_), buf_(o.buf_), n_(o.n_) {}
  read_op& operator=(read_op&&) = delete;
  ~read_op();
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  std::size_t await_resume();
  void wake_reader() noexcept { wake(true); }

 private:
  static void on_abort(detail::wait_hook* w) noexcept;
  detail::multishot_state* st_;
  char* buf_;
  std::size_t n_;
};

// A UDP socket. Move-only; closed by the destructor.
//
//   auto u = coring::udp_socket::bind("127.0.0.1", 0);
//   co_await u.send_to("hi", coring::endpoint::parse("127.0.0.1", port));
//   char buf[1500]; auto d = co_await u.recv_from(buf);   // d.size, d.from
class udp_socket {
 public:
  udp_socket() noexcept = default;
  udp_socket(udp_socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  udp_socket& operator=(udp_socket&& o) noexcept;
  ~udp_socket() { detail::close_fd_now(fd_); }

  // A socket bound to host:port (numeric host, as tcp_listener::bind; port 0 picks one).
  // Errors: std::system_error "bind 127.0.0.1:53: ...".
  static udp_socket bind(std::string_view host, std::uint16_t port);
  static udp_socket bind(const endpoint& ep);

  // Sends one datagram. Cancellation: a cancellation point (single operation).
  // Errors: std::system_error "sendto 127.0.0.1:9: ..." (e.g. EMSGSIZE).
  detail::sendto_op_t send_to(std::string_view data, const endpoint& to) {
    return detail::sendto_op(fd_, data.data(), data.size(), to);
  }
  detail::sendto_op_t send_to(std::span<const std::byte> data, const endpoint& to) {
    return detail::sendto_op(fd_, data.data(), data.size(), to);
  }
  // Receives one datagram into `buf`: size, sender, and whether it was truncated.
  // Cancellation: cancel-safe (single operation). Errors: std::system_error (ECONNREFUSED
  // after sending to a closed port on loopback).
  detail::recvfrom_op_t recv_from(std::span<char> buf) { return detail::recvfrom_op(fd_, buf.data(), buf.size()); }
  detail::recvfrom_op_t recv_from(std::span<std::byte> buf) { return detail::recvfrom_op(fd_, buf.data(), buf.size()); }

  [[nodiscard]] detail::close_op close() noexcept { return detail::close_op(std::exchange(fd_, -1)); }
  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }
  std::uint16_t local_port() const;
  endpoint local_endpoint() const;

 private:
  int fd_ = -1;
};

}  // namespace coring
