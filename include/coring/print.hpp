// Printing through the ring: text goes to stdout with IORING_OP_WRITE, so a program that
// prints this way makes no write(2) system call of its own (the writes ride on the loop's
// io_uring_enter calls).
#pragma once

#include <string>
#include <utility>

#include <fmt/format.h>

#include "coring/task.hpp"

namespace coring {

// Writes all of `text` to file descriptor `fd` (default: stdout) through the ring,
// retrying short writes; returns when all of it was written. Prints from concurrent tasks
// may interleave only at chunk boundaries of a short write (a pipe that is nearly full).
// Cancellation: a cancellation point (each write is cancelled in the kernel); a cancelled
// print may have written a prefix. Errors: std::system_error naming the fd (EPIPE, EBADF).
//
// Example (examples/print_ring.cpp):
//   co_await coring::print("hello\n");
//   co_await coring::print("{} items in {} ms\n", n, ms);  // fmt syntax
//   co_await coring::print("to stderr\n", 2);               // any descriptor
task<> print(std::string text, int fd = 1);

// fmt-style: formats with fmt::format (the format string is checked at compile time), then
// prints as above. Cancellation and errors: as above. Example: above.
template <class... Args>
  requires(sizeof...(Args) > 0)
task<> print(fmt::format_string<Args...> f, Args&&... args) {
  return print(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace coring
