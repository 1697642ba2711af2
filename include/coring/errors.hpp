// The exceptions coring throws, and the one place a kernel error code becomes an exception.
#pragma once

#include <stdexcept>
#include <string_view>

namespace coring {

// Thrown at a suspension point inside a cancelled cancel scope (level-triggered: every
// suspension point throws it until the scope is left). It does NOT derive from
// std::exception, so `catch (const std::exception&)` cannot swallow a cancellation; catch it
// only to clean up, then rethrow, like Python's CancelledError(BaseException).
//
//   try { co_await coring::sleep(1s); }
//   catch (const coring::cancelled&) { log("stopping"); throw; }
struct cancelled {
  const char* what() const noexcept { return "coring::cancelled"; }
};

// Thrown by with_timeout / fail_after when that scope's own deadline expired.
class timeout_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  timeout_error() : std::runtime_error("coring: operation timed out") {}
};

// Turns a negative io_uring result (or -errno) into std::system_error(errno, system
// category) whose message names the call and its argument: "connect 127.0.0.1:9".
// This is the only function that does so.
[[noreturn]] void throw_errno(int negative_res, std::string_view what);

}  // namespace coring
