// Reading and writing a raw file descriptor you own (a pipe, a tty, an eventfd...) through
// the ring. For sockets and files prefer tcp_stream and file, which own their descriptor
// and name it in error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "coring/detail/io_op.hpp"

namespace coring {

// Reads up to buf.size() bytes from `fd` at its current position (IORING_OP_READ with
// offset -1); returns how many, 0 at end of file. One io_uring operation: usable with
// with_timeout (linked timeout). Cancellation: a cancellation point, cancelled in the
// kernel; bytes already read are returned, never dropped. Errors: std::system_error
// "read fd 5: ...". The caller keeps `fd` open and `buf` alive until the read returns.
//
// Example (examples/fd_pipe.cpp):
//   co_await coring::write_some(write_fd, "ping");
//   char buf[256];
//   std::size_t n = co_await coring::read_some(pipe_fd, buf);  // 4: "ping"
//
// Example (examples/fd_pipe.cpp):
//   try {  // one io_uring operation, so with_timeout cancels it in the kernel
//     co_await coring::with_timeout(5ms, coring::read_some(pipe_fd, buf));
//   } catch (const coring::timeout_error&) {
//     // nothing was written: the read was cancelled and no byte was lost
//   }
inline detail::read_op_t read_some(int fd, std::span<char> buf) { return detail::read_op(fd, buf.data(), buf.size()); }

// Writes up to data.size() bytes to `fd` at its current position; returns how many.
// Cancellation and errors: as read_some ("write fd 5: ..."; EPIPE when the read end of
// a pipe is closed, after the kernel sent SIGPIPE unless the program ignores it). The
// caller keeps `fd` open and `data` alive until the write returns. Example: under read_some.
inline detail::write_op_t write_some(int fd, std::string_view data) {
  return detail::write_op(fd, data.data(), data.size());
}

namespace detail {
inline auto splice_op(int fd_in, std::int64_t off_in, int fd_out, std::int64_t off_out, std::size_t len,
                      unsigned flags) {
  return make_op<op_traits_worker>("splice", bytes_on_fd{"splice"}, &io_uring_prep_splice, fd_in, off_in, fd_out,
                                   off_out, clamp_io_length(len), flags);
}
using splice_op_t = decltype(splice_op(0, 0, 0, 0, 0, 0));
}  // namespace detail

// Moves up to `len` bytes from `fd_in` to `fd_out` inside the kernel (splice(2) as
// IORING_OP_SPLICE); one of the two must be a pipe. An offset of -1 means the descriptor's
// own position (required for pipes and sockets); another value reads or writes a file at
// that offset without moving its position. Returns how many bytes moved, 0 when `fd_in` is
// at end of file. `flags` are SPLICE_F_* (SPLICE_F_MOVE, SPLICE_F_MORE...). Sending a file
// to a socket takes two: file -> pipe, then pipe -> socket (what http::body_writer::write_file
// does). Cancellation: a cancellation point, cancelled in the kernel; bytes already moved
// are returned. with_timeout bounds it with a cancel scope, not a linked timeout (the
// kernel runs a splice in a worker thread, which a linked timeout does not reach).
// Errors: std::system_error "splice fd 5: ..." naming fd_in (EINVAL when neither end is a
// pipe or the file system cannot splice).
//
// Example (examples/fd_splice.cpp):
//   std::size_t n = co_await coring::splice(f.native_handle(), 0, p.w, -1, 5);  // file -> pipe
//   std::size_t m = co_await coring::splice(p.r, -1, out.w, -1, n);            // pipe -> pipe
inline detail::splice_op_t splice(int fd_in, std::int64_t off_in, int fd_out, std::int64_t off_out, std::size_t len,
                                  unsigned flags = 0) {
  return detail::splice_op(fd_in, off_in, fd_out, off_out, len, flags);
}

}  // namespace coring
