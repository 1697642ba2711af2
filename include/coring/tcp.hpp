// TCP on the ring (layer 7): tcp_stream (a connected socket: connect, read, write,
// shutdown, close) and tcp_listener (bind, one multishot accept serving every accept()).
//
// Ownership: both own their descriptor (move-only) and close it in their destructor if it
// is still open, so a cancelled task never leaks one. Use and destroy them on the thread
// of the runtime that awaited them.
//
// Errors: std::system_error(errno, std::system_category()) whose what() names the call and
// the address: "connect 127.0.0.1:9: Connection refused", "recv 127.0.0.1:41234:
// Connection reset by peer". Bad arguments are std::invalid_argument saying what is
// expected; using an empty (moved-from) listener is std::logic_error.
//
// Cancellation: every awaitable here is a cancellation point unless its comment says
// otherwise. read_some and connect's connect are single io_uring operations: with_timeout
// links an IORING_OP_LINK_TIMEOUT to them (one extra SQE, no extra system call), and a
// cancel that races a completed receive delivers the data. Writes and shutdown first wait
// for the stream's write-behind send (if one is in the kernel), so with_timeout bounds them
// with a cancel scope.
//
// Example (examples/tcp_reuse_port.cpp):
//   // Two listeners on one port (e.g. one per loop thread): the kernel spreads connections.
//   coring::listen_options opts;
//   opts.reuse_port(true);
//   auto a = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", 0), opts);
//   auto b = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", a.local_port()), opts);
//   auto client = co_await coring::tcp_stream::connect("127.0.0.1", a.local_port());
//   co_await client.write_all("hello");
//   co_await client.shutdown();  // the peer reads end-of-stream after "hello"
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "coring/detail/fd_ops.hpp"
#include "coring/detail/ilist.hpp"
#include "coring/detail/io_op.hpp"
#include "coring/detail/stream_writer.hpp"
#include "coring/endpoint.hpp"
#include "coring/task.hpp"

namespace coring {

class tcp_stream;
class tcp_listener;

namespace detail {

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

// IORING_OP_RECV. Result: bytes received, 0 when the peer closed its side. `ioprio` takes
// the receive's own flags (IORING_RECVSEND_POLL_FIRST: ring::recv_poll_first).
inline auto recv_op(int fd, void* buf, std::size_t len, int flags, unsigned ioprio = 0) {
  return make_op(
      "recv", socket_bytes{"recv"},
      [](io_uring_sqe* sqe, int fd, void* buf, std::size_t len, int flags, unsigned ioprio) {
        io_uring_prep_recv(sqe, fd, buf, len, flags);
        sqe->ioprio = static_cast<__u16>(ioprio);
      },
      fd, buf, std::size_t{clamp_io_length(len)}, flags, ioprio);
}
using recv_op_t = decltype(recv_op(0, nullptr, 0, 0));

// A stream's receive (tcp_stream::read_some, read_exact): one IORING_OP_RECV, so
// with_timeout links its timeout to it, that records on completion whether the socket
// still holds data (IORING_CQE_F_SOCK_NONEMPTY). The stream's next read after a write then
// goes without POLL_FIRST, which would only add a poll to a receive that can succeed at
// once (about 400 ns more per receive here).
class stream_recv_op : public recv_op_t {
 public:
  stream_recv_op(recv_op_t op, bool& data_left) noexcept : recv_op_t(std::move(op)), data_left_(&data_left) {}
  std::size_t await_resume() {
    const std::size_t n = recv_op_t::await_resume();
    *data_left_ = (cqe_flags() & IORING_CQE_F_SOCK_NONEMPTY) != 0;
    return n;
  }

 private:
  bool* data_left_;
};

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
// with close(2) if close() was not awaited. Awaiting an operation of a closed or empty
// stream fails with EBADF ("recv fd -1: Bad file descriptor").
//
// Write-behind: a write_all of at most 16 KiB is copied into a buffer the stream owns and
// sent without the task waiting for the send, so a task that replies and then reads again
// costs the loop one io_uring_enter per request (the send and the next receive go to the
// kernel together). Writes made in the same loop turn join one send; a write that finds the
// previous send still in the kernel (the socket buffer is full) waits for it, so at most
// 16 KiB wait beyond the socket's own buffer. An error of a send that already returned is
// reported by the stream's next write_all, write_some, flush or shutdown; flush() waits for
// the bytes to be with the kernel and reports it. Before handing native_handle() to other
// I/O on the socket (splice, sendfile, another library), or the stream to another loop
// thread, await flush(): the pending send belongs to this thread's ring (a write_all,
// write_some, flush or shutdown on the other thread while it is in flight throws
// std::logic_error saying so).
// (Example: the header's, and examples/net_echo.cpp in net.hpp.)
class tcp_stream {
 public:
  // An empty stream (is_open() is false).
  tcp_stream() noexcept = default;
  // Adopts a connected socket descriptor (e.g. one passed from another thread or process);
  // the stream closes it.
  explicit tcp_stream(int fd) noexcept : fd_(fd) {}
  // Moves the descriptor and its unsent bytes; the source becomes empty.
  tcp_stream(tcp_stream&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)),
        read_prio_(std::exchange(o.read_prio_, 0)),
        data_left_(std::exchange(o.data_left_, false)),
        w_(std::exchange(o.w_, nullptr)) {}
  // Closes this stream's descriptor (close(2)) and takes the other's.
  tcp_stream& operator=(tcp_stream&& o) noexcept;
  // Closes the descriptor with close(2) if it is still open. Bytes written behind are
  // handed to the kernel first and still leave (the send holds the socket open).
  ~tcp_stream();

  // Connects to `host` (an IPv4/IPv6 literal or a host name, resolved on the blocking
  // pool) at `port`, trying each resolved address in turn.
  // Cancellation: a cancellation point; the half-made socket is closed.
  // Errors: std::system_error from the last address tried, e.g. "connect 127.0.0.1:9:
  // Connection refused"; resolve's errors for an unknown name.
  //
  //   auto s = co_await coring::tcp_stream::connect("127.0.0.1", 8080);
  static task<tcp_stream> connect(std::string host, std::uint16_t port);
  // Connects to one address (one IORING_OP_CONNECT). Cancellation and errors: as above;
  // std::invalid_argument for an empty endpoint.
  static task<tcp_stream> connect(endpoint ep);

  // Receives at most buf.size() bytes; returns how many, 0 when the peer closed its side
  // (then every further read returns 0). One IORING_OP_RECV. The first read after a write
  // is most likely waiting for the peer's reply: unless the last read left data in the
  // socket, it asks the kernel to wait for data before receiving
  // (IORING_RECVSEND_POLL_FIRST, Linux 5.19+), which skips a receive attempt that would
  // only find the socket empty. Keep the stream in place (not moved from, not destroyed)
  // until the read completes, as for its other operations.
  // Cancellation: cancel-safe: either bytes are returned or they stay in the socket.
  // Errors: std::system_error (ECONNRESET on a reset) "recv 127.0.0.1:80: ...".
  //
  //   std::size_t n = co_await s.read_some(std::span(buf));
  detail::stream_recv_op read_some(std::span<char> buf) { return receive(buf.data(), buf.size(), 0); }
  detail::stream_recv_op read_some(std::span<std::byte> buf) { return receive(buf.data(), buf.size(), 0); }
  detail::stream_recv_op read_some(void* data, std::size_t n) { return receive(data, n, 0); }

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

  // Sends at most data.size() bytes, after any bytes written behind; returns how many. One
  // IORING_OP_SEND (after waiting for a write-behind send still in the kernel).
  // Cancellation: cancel-safe (returns what was sent). Errors: EPIPE / ECONNRESET when the
  // peer is gone (never SIGPIPE), or the error of an earlier write-behind send.
  //
  //   std::size_t sent = co_await s.write_some(reply);
  task<std::size_t> write_some(std::string_view data);
  task<std::size_t> write_some(std::span<const std::byte> data);

  // Sends all of `data`. Up to 16 KiB it is copied and written behind (see the class
  // comment): the await returns without waiting for the send, unless the previous send is
  // still in the kernel. Larger data is sent from the caller's buffer (MSG_WAITALL: usually
  // one operation, looped on a short send), which must stay alive until the await finishes.
  // Cancellation: a cancellation point even when it does not suspend (a cancelled task sends
  // nothing); NOT cancel-safe once sending began: part of the data may have been sent.
  // Errors: as write_some; a write-behind send's own error surfaces at the next write,
  // flush or shutdown.
  //
  //   co_await s.write_all("GET / HTTP/1.1\r\n\r\n");
  task<void> write_all(std::string_view data);
  task<void> write_all(std::span<const std::byte> data);

  // Waits until every byte written so far is with the kernel (the write-behind send has
  // completed) and reports its error. Returns at once when nothing is pending.
  // Cancellation: a cancellation point; the pending send goes on.
  // Errors: std::system_error of the failed send, e.g. "send 127.0.0.1:80: Broken pipe";
  // std::logic_error when the stream was handed to another loop thread before its send
  // completed (this and every write refuse there: flush on the thread that wrote).
  //
  // Example (examples/tcp_flush.cpp):
  //   co_await s.write_all("header");  // copied and written behind: returns at once
  //   co_await s.flush();              // now with the kernel; a failed send would throw here
  task<void> flush();

  // Shuts down one or both directions (SHUT_WR by default: the peer reads end-of-stream
  // but can still send), after the bytes written behind are with the kernel. One
  // IORING_OP_SHUTDOWN; a cancellation point.
  // Errors: std::system_error ENOTCONN when not connected; a write-behind send's error.
  // (Example: the header's.)
  task<void> shutdown(int how = SHUT_WR);

  // Closes the socket with IORING_OP_CLOSE. Not a cancellation point: the socket is
  // always closed (a pending cancellation surfaces at the next suspension point).
  // Closing an already closed stream does nothing.
  //
  //   co_await s.close();
  // Bytes written behind are submitted before the close and still leave.
  [[nodiscard]] detail::close_op close() noexcept;

  // True until close() or release(). Never throws.
  bool is_open() const noexcept { return fd_ >= 0; }
  // The descriptor (-1 when closed), for setsockopt and the like; the stream still owns it.
  int native_handle() const noexcept { return fd_; }
  // Gives up ownership of the descriptor and returns it (-1 when closed); the caller must
  // close it. Bytes written behind are handed to the kernel first (they still leave, but
  // await flush() before release() to learn their outcome).
  int release() noexcept;
  // This end's address (getsockname). Errors: std::system_error "getsockname fd 7: ...".
  endpoint local_endpoint() const;
  // The peer's address (getpeername). Errors: std::system_error ENOTCONN "getpeername fd
  // 7: ..." once the peer is gone.
  //
  //   fmt::print("client {}\n", conn.peer_endpoint().to_string());
  endpoint peer_endpoint() const;

 private:
  // Marks the stream written to: its next read may ask for POLL_FIRST (read_some).
  void note_write() noexcept;
  detail::stream_recv_op receive(void* data, std::size_t n, int flags) noexcept {
    // A zero-byte read returns at once; waiting for data first would change that.
    const unsigned prio = (n && !data_left_) ? read_prio_ : 0;
    if (n) read_prio_ = 0;
    return {detail::recv_op(fd_, data, n, flags, prio), data_left_};
  }

  int fd_ = -1;
  // Since the last write, what the next read's SQE carries in ioprio (0 when the kernel
  // has no POLL_FIRST), and whether the last read left data in the socket.
  std::uint16_t read_prio_ = 0;
  bool data_left_ = false;
  detail::stream_writer* w_ = nullptr;  // write-behind, created by the first small write_all
};

// How tcp_listener::bind sets up its socket. A class with setters (not an aggregate), so
// it can be built before the call and passed by reference.
//   backlog     the kernel's queue of connections not yet taken (listen(2)); default 1024.
//   reuse_port  SO_REUSEPORT: several sockets (one per loop thread, or per process) bind
//               the same address and the kernel spreads new connections among them by a
//               hash of the peer's address and port. The spread is even only on average: a
//               few long-lived connections can all land on one thread, and a listener that
//               stops accepting keeps the connections hashed to it waiting. When balance
//               matters more than parallel accept, use one listener and pass accepted
//               streams (their descriptors) to other threads instead. Default off.
// (Example: the header's.)
class listen_options {
 public:
  // Backlog 1024, no SO_REUSEPORT.
  listen_options() noexcept {}
  // Sets the backlog (>= 0; the kernel caps it at net.core.somaxconn, and 0 still lets
  // a connection or so complete its handshake).
  // Errors: std::invalid_argument for a negative value.
  listen_options& backlog(int n);
  int backlog() const noexcept { return backlog_; }
  // Sets SO_REUSEPORT on the listening socket (see the class comment). Never throws.
  listen_options& reuse_port(bool on) noexcept {
    reuse_port_ = on;
    return *this;
  }
  bool reuse_port() const noexcept { return reuse_port_; }

 private:
  int backlog_ = 1024;
  bool reuse_port_ = false;
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
  // An empty listener (is_open() is false; accept() throws std::logic_error).
  tcp_listener() noexcept;
  // Moves the socket and everything queued; the source becomes empty.
  tcp_listener(tcp_listener&&) noexcept;
  // Closes this listener (as close()) and takes the other's socket.
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
  // "host:port", e.g. "127.0.0.1:8080" or "[::]:0" (backlog 1024). Errors: as above, and
  // std::invalid_argument for text that is not host:port.
  static tcp_listener bind(std::string_view host_port);
  // Binds one address. Errors: as above; std::invalid_argument for an empty endpoint.
  static tcp_listener bind(const endpoint& ep, int backlog = 1024);
  // Binds with the given options (SO_REUSEPORT, backlog). Errors: as above; with
  // reuse_port, EADDRINUSE when a socket bound without SO_REUSEPORT (or by another user)
  // holds the address. (Example: the header's.)
  static tcp_listener bind(const endpoint& ep, const listen_options& opts);

  // Connections the listener takes from the kernel ahead of accept() calls.
  static constexpr std::size_t default_max_queued = 16;
  // Sets that bound (>= 1; std::invalid_argument otherwise). Larger values save a few SQEs
  // under bursts of connections; smaller ones leave more in the kernel's backlog.
  void set_max_queued(std::size_t n);
  // The bound in force (default_max_queued unless set, also for an empty listener).
  std::size_t max_queued() const noexcept;

  // What the listener has seen: connections accepted from the kernel, accept failures that
  // were not transient (EMFILE, ENFILE, ENOMEM...; a connection reset in the backlog is not
  // counted), and the errno of the last one.
  struct statistics {
    std::uint64_t accepted = 0;
    std::uint64_t errors = 0;
    int last_error = 0;
  };
  // (Zeros for an empty listener.)
  //
  //   if (l.stats().errors) fmt::print("accept failed: {}\n", std::strerror(l.stats().last_error));
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

  // True from bind() until close(). Never throws.
  bool is_open() const noexcept;
  // The bound port (the one the kernel picked for port 0); 0 for an empty listener.
  std::uint16_t local_port() const noexcept;
  // The bound address and port (an empty endpoint for an empty listener).
  const endpoint& local_endpoint() const noexcept;
  // The listening descriptor (-1 when closed), for socket options; the listener owns it.
  int native_handle() const noexcept;
  // Connections accepted by the kernel and not yet taken by accept() (at most
  // max_queued(), see the class comment). Never throws.
  std::size_t queued() const noexcept;

 private:
  std::unique_ptr<detail::listener_state> st_;
};

}  // namespace coring
