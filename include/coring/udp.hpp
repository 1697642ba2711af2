// UDP on the ring (layer 7): udp_socket, one datagram per operation (IORING_OP_SENDMSG /
// IORING_OP_RECVMSG).
//
// Ownership: a udp_socket owns its descriptor (move-only) and closes it in its destructor;
// use and destroy it on the thread of the runtime that awaited it.
// Errors: std::system_error naming the call and the address ("sendto 127.0.0.1:9:
// Connection refused"); std::invalid_argument for an address that does not parse.
// Cancellation: send_to and recv_from are single operations, so cancellation points that
// with_timeout can give a linked timeout; a cancelled receive consumes no datagram.
//
// Example (examples/udp_roundtrip.cpp):
//   auto server = coring::udp_socket::bind("127.0.0.1", 0);  // port 0: any free port
//   auto client = coring::udp_socket::bind("127.0.0.1", 0);
//   co_await client.send_to("ping", server.local_endpoint());
//   char buf[1500];
//   const coring::datagram d = co_await coring::with_timeout(2s, server.recv_from(std::span(buf)));
//   co_await server.send_to(std::string_view(buf, d.size), d.from);  // reply to the sender
//   const coring::datagram r = co_await coring::with_timeout(2s, client.recv_from(std::span(buf)));
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "coring/detail/fd_ops.hpp"
#include "coring/detail/io_op.hpp"
#include "coring/endpoint.hpp"

namespace coring {

// One received datagram: how many bytes were stored, who sent it, and whether it was cut
// to fit the buffer.
struct datagram {
  std::size_t size = 0;    // bytes stored in the buffer
  endpoint from;           // the sender
  bool truncated = false;  // the datagram was larger than the buffer (MSG_TRUNC): the rest is lost
};

namespace detail {

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

}  // namespace detail

// A UDP socket. Move-only; closed by the destructor. (Example: the header's.)
class udp_socket {
 public:
  // An empty socket (is_open() is false).
  udp_socket() noexcept = default;
  // Moves the descriptor; the source becomes empty.
  udp_socket(udp_socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  // Closes this socket's descriptor (close(2)) and takes the other's.
  udp_socket& operator=(udp_socket&& o) noexcept;
  // Closes the descriptor with close(2) if it is still open.
  ~udp_socket() { detail::close_fd_now(fd_); }

  // A socket bound to host:port (numeric host, as tcp_listener::bind; port 0 picks one).
  // Errors: std::system_error "bind 127.0.0.1:53: ...".
  // Synchronous (socket + bind never block). Also std::invalid_argument for a host that
  // is not numeric (resolve it first).
  static udp_socket bind(std::string_view host, std::uint16_t port);
  // Binds one address. Errors: as above; std::invalid_argument for an empty endpoint.
  static udp_socket bind(const endpoint& ep);

  // Sends one datagram to `to`; returns the bytes sent (all of them: datagrams are not
  // split). The data must stay alive until the await finishes.
  // Cancellation: a cancellation point (single operation; a cancelled send sent nothing).
  // Errors: std::system_error "sendto 127.0.0.1:9: ..." (e.g. EMSGSIZE for a datagram over
  // 64 KiB, ECONNREFUSED reported for an earlier datagram to a closed port).
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

  // Closes the socket with IORING_OP_CLOSE. Not a cancellation point: the socket is
  // always closed. Closing an already closed socket does nothing.
  //
  //   co_await u.close();
  [[nodiscard]] detail::close_op close() noexcept { return detail::close_op(std::exchange(fd_, -1)); }
  // True until close(). Never throws.
  bool is_open() const noexcept { return fd_ >= 0; }
  // The descriptor (-1 when closed), for socket options; the socket still owns it.
  int native_handle() const noexcept { return fd_; }
  // The bound port and address (getsockname). Errors: std::system_error "getsockname fd
  // 7: ..." (EBADF for a closed socket).
  std::uint16_t local_port() const;
  endpoint local_endpoint() const;

 private:
  int fd_ = -1;
};

}  // namespace coring
