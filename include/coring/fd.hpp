// Reading and writing a raw file descriptor you own (a pipe, a tty, an eventfd...) through
// the ring. For sockets and files prefer tcp_stream and file, which own their descriptor
// and name it in error messages.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "coring/detail/io_op.hpp"

namespace coring {

// Reads up to buf.size() bytes from `fd` at its current position (IORING_OP_READ with
// offset -1); returns how many, 0 at end of file. One io_uring operation: usable with
// with_timeout (linked timeout). Cancellation: a cancellation point, cancelled in the
// kernel; bytes already read are returned, never dropped. Errors: std::system_error
// "read fd 5: ...". The caller keeps `fd` open until the read returns.
//
//   char buf[256];
//   std::size_t n = co_await coring::read_some(pipe_fd, buf);
inline detail::read_op_t read_some(int fd, std::span<char> buf) { return detail::read_op(fd, buf.data(), buf.size()); }

// Writes up to data.size() bytes to `fd` at its current position; returns how many.
// Cancellation and errors: as read_some ("write fd 5: ...").
//
//   co_await coring::write_some(pipe_fd, "ping");
inline detail::write_op_t write_some(int fd, std::string_view data) {
  return detail::write_op(fd, data.data(), data.size());
}

}  // namespace coring
