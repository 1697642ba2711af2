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
// retrying short writes. Cancellation: a cancellation point between chunks; a cancelled
// print may have written a prefix. Errors: std::system_error naming the fd (EPIPE, EBADF).
//
//   co_await coring::print("hello\n");
task<> print(std::string text, int fd = 1);

// fmt-style: co_await coring::print("{} items in {} ms\n", n, ms);
template <class... Args>
  requires(sizeof...(Args) > 0)
task<> print(fmt::format_string<Args...> f, Args&&... args) {
  return print(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace coring
