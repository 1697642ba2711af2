// The exceptions coring throws, and the one place a kernel error code becomes an exception.
#pragma once

#include <stdexcept>
#include <string_view>

namespace coring {

// Thrown at a suspension point inside a cancelled cancel scope (level-triggered: every
// suspension point throws it until the scope is left). It does NOT derive from
// std::exception, so `catch (const std::exception&)` cannot swallow a cancellation; catch it
// only to clean up, then rethrow, like Python's CancelledError(BaseException). Swallowing
// it does not undo the cancellation: the task's next suspension point throws it again.
//
// Example (examples/errors_cancelled.cpp):
//   try {
//     co_await coring::sleep(1s);
//   } catch (const coring::cancelled&) {  // not a std::exception: catch it only to clean up
//     fmt::print("stopping\n");
//     throw;  // and rethrow
//   }
struct cancelled {
  const char* what() const noexcept { return "coring::cancelled"; }
};

// Thrown by with_timeout / fail_after when that scope's own deadline expired (a deadline
// of an enclosing scope gives coring::cancelled instead, so the right scope handles it).
class timeout_error : public std::runtime_error {
 public:
  // With a message naming what timed out (coring's own say which operation), or a generic one.
  using std::runtime_error::runtime_error;
  timeout_error() : std::runtime_error("coring: operation timed out") {}
};

// Turns a negative io_uring result (or -errno) into std::system_error(errno, system
// category) whose message names the call and its argument: "connect 127.0.0.1:9".
// This is the only function that does so. `negative_res` must be negative.
//
// Example (examples/errors_cancelled.cpp):
//   try {
//     co_await coring::with_timeout(5ms, counted_worker());
//   } catch (const coring::timeout_error&) {  // this scope's own deadline expired
//     timed_out = true;
//   }
//   try {
//     coring::throw_errno(-ENOENT, "open /nope");  // how a CQE error becomes an exception
//   } catch (const std::system_error& e) {
//     message = e.what();  // "open /nope: No such file or directory"
//   }
[[noreturn]] void throw_errno(int negative_res, std::string_view what);

}  // namespace coring
